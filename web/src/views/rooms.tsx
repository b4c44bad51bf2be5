// «Уроки и собрания»: today's and upcoming lessons and parent meetings of the
// person's classes (or of one class, opened from its chat), each to join; a
// teacher starts one now or schedules it. Joining opens the room's page.

import { useEffect, useId, useMemo, useState } from "preact/hooks";
import type { ClassLink, RoomRecord } from "../generated/protocol";
import { failureText, isStaff, type Panels } from "../panels";
import { showRoomInUrl } from "../place";
import { RT } from "../texts";
import { Dialog } from "./dialog";

const DAY = 24 * 3600;

export function RoomsDialog({ panels, classId }: { panels: Panels; classId?: string }) {
  const store = panels.store;
  const [rooms, setRooms] = useState<RoomRecord[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const body = classId === undefined ? {} : { class: classId };
    store.socket.request("room.list", body).then(
      (reply) => setRooms(reply.rooms),
      (e: unknown) => setError(failureText(e)),
    );
  }, [store, classId]);
  const enter = (room: string) => {
    panels.open(null);
    showRoomInUrl(room);
    dispatchEvent(new PopStateEvent("popstate"));
  };
  // Today's and what is ahead: a room still open, or planned from the start of today on.
  const startOfToday = new Date().setHours(0, 0, 0, 0) / 1000;
  const shown = (rooms ?? []).filter(
    (r) => r.state === "open" || (r.state === "scheduled" && (r.starts_at ?? 0) >= startOfToday - DAY),
  );
  return (
    <Dialog name="rooms" title={RT.rooms} onClose={() => panels.open(null)}>
      {isStaff(store) ? <StartForm panels={panels} classId={classId} onStarted={enter} /> : null}
      <h3>{RT.roomsToday}</h3>
      {error ? <p role="alert" class="refusal">{error}</p> : null}
      {rooms !== null && shown.length === 0 ? <p class="muted">{RT.noRooms}</p> : null}
      <ul class="rooms">
        {shown.map((r) => (
          <li key={r.id} class="room-item">
            <span class="title">
              <span class="kind">{r.kind === "lesson" ? RT.lesson : RT.meeting}</span>
              {r.title}
            </span>
            <span class="muted">
              {className(knownClasses(store.me), r.class_id)} ·{" "}
              {r.state === "open" ? `${RT.open}, ${RT.inRoom(r.participants)}` : RT.scheduled(when(r.starts_at))}
            </span>
            <button type="button" class="button" onClick={() => enter(r.id)}>
              {r.kind === "lesson" ? RT.joinLesson : RT.joinMeeting}
            </button>
          </li>
        ))}
      </ul>
    </Dialog>
  );
}

function StartForm({
  panels,
  classId,
  onStarted,
}: {
  panels: Panels;
  classId?: string;
  onStarted: (room: string) => void;
}) {
  const store = panels.store;
  const classes = useMemo(() => {
    const mine = new Map<string, string>();
    for (const c of store.me?.classes ?? []) if (c.relation !== "student") mine.set(c.class_id, c.class_name);
    return [...mine];
  }, [store.me]);
  const ids = { cls: useId(), kind: useId(), title: useId(), when: useId() };
  const [cls, setCls] = useState(classId ?? classes[0]?.[0] ?? "");
  const [kind, setKind] = useState<"lesson" | "meeting">("lesson");
  const [title, setTitle] = useState("");
  const [at, setAt] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const key = useMemo(() => crypto.randomUUID(), []); // a retry after a lost reply starts no second room
  if (classes.length === 0) return null;
  const submit = () => {
    if (busy) return;
    setBusy(true);
    setError(null);
    const startsAt = at === "" ? null : new Date(at).getTime() / 1000;
    store.socket.request("room.start", { class: cls, kind, title: title.trim(), starts_at: startsAt, key }).then(
      (reply) => (reply.room.state === "open" ? onStarted(reply.room.id) : panels.open(null)),
      (e: unknown) => {
        setBusy(false);
        setError(failureText(e));
      },
    );
  };
  return (
    <form
      class="stack start-room"
      aria-label={RT.startTitle}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <label for={ids.cls}>{RT.className}</label>
      <select id={ids.cls} value={cls} onChange={(e) => setCls((e.target as HTMLSelectElement).value)}>
        {classes.map(([id, name]) => (
          <option key={id} value={id}>{name}</option>
        ))}
      </select>
      <label for={ids.kind}>{RT.kindLabel}</label>
      <select id={ids.kind} value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as "lesson" | "meeting")}>
        <option value="lesson">{RT.lesson}</option>
        <option value="meeting">{RT.meeting}</option>
      </select>
      <label for={ids.title}>{RT.titleLabel}</label>
      <input id={ids.title} required maxLength={200} value={title} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
      <label for={ids.when}>{RT.whenLabel}</label>
      <input id={ids.when} type="datetime-local" value={at} onInput={(e) => setAt((e.target as HTMLInputElement).value)} />
      {error ? <p role="alert" class="refusal">{error}</p> : null}
      <button type="submit" class="button" disabled={busy || title.trim() === ""}>
        {at === "" ? (kind === "lesson" ? RT.startLesson : RT.startMeeting) : RT.schedule}
      </button>
    </form>
  );
}

function knownClasses(me: { classes: ClassLink[]; children: { classes: ClassLink[] }[] } | null): ClassLink[] {
  return me === null ? [] : [...me.classes, ...me.children.flatMap((c) => c.classes)];
}

function className(classes: { class_id: string; class_name: string }[], id: string): string {
  return classes.find((c) => c.class_id === id)?.class_name ?? id;
}

function when(at: number | null): string {
  if (at === null) return "";
  return new Date(at * 1000).toLocaleString("ru-RU", { day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });
}

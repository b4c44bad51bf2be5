// One open chat: its history (paged back as the reader scrolls up), the
// messages still being sent, and the composer; above them the pinned message,
// for a direct chat whether the other person is online, and who is typing.

import { useLayoutEffect, useRef } from "preact/hooks";
import type { ChatView, Store } from "../store";
import { RT, T } from "../texts";
import { Composer } from "./composer";
import { MessageRow, OutgoingRow, snippet } from "./message";
import "./pane.css";
import { panelsOf } from "../panels";

export function ChatPane({ store, view }: { store: Store; view: ChatView }) {
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const keepFrom = useRef<number | null>(null); // scrollHeight before older messages came in
  const messages = [...view.messages.values()].sort((a, b) => a.id - b.id);
  const outgoing = store.unconfirmed(view.summary.id);
  const newest = messages.length ? messages[messages.length - 1]!.id : 0;
  const chat = view.summary.id;
  const me = store.me?.person.oid;
  const details = store.details.get(chat);
  const unreadAfter = view.unreadAfter;
  const firstUnread =
    unreadAfter === null ? undefined : messages.find((m) => m.id > unreadAfter && m.author !== me)?.id;
  const divider = useRef<HTMLLIElement>(null);
  const shownDivider = useRef(false);

  // Near the top with older history left: page it in, keeping the reader's place.
  const olderIfNeeded = () => {
    const el = scroller.current;
    if (el === null || el.scrollTop >= 80 || !view.more || view.loadingOlder || !view.loaded) return;
    keepFrom.current = el.scrollHeight;
    void store.loadOlder(view.summary.id).then((loaded) => {
      if (!loaded) keepFrom.current = null;
    });
  };

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el === null) return;
    if (!shownDivider.current && view.loaded && divider.current !== null) {
      // Opened with unread messages: start at the first of them.
      shownDivider.current = true;
      divider.current.scrollIntoView({ block: "start" });
      atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    } else if (keepFrom.current !== null && !view.loadingOlder) {
      el.scrollTop += el.scrollHeight - keepFrom.current; // older page above: stay where we were
      keepFrom.current = null;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    // A page too short to scroll never gets a scroll event: fill it.
    if (el.scrollHeight <= el.clientHeight) olderIfNeeded();
  });

  const onScroll = () => {
    const el = scroller.current;
    if (el === null) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    olderIfNeeded();
  };

  return (
    <section class="chat" aria-label={view.summary.title}>
      <header class="bar">
        <button type="button" class="back" onClick={() => store.open(null)} aria-label={T.back}>
          ←
        </button>
        <div class="heading">
          <h2>{view.summary.title}</h2>
          <span class="muted status">
            {view.summary.kind === "direct" ? <Presence store={store} chat={chat} /> : T.members(view.summary.members)}
          </span>
        </div>
        {(view.summary.kind === "class" || view.summary.kind === "class_parents") && view.summary.class_id ? (
          <button type="button" class="link" onClick={() => panelsOf(store).open({ kind: "rooms", classId: view.summary.class_id ?? undefined })}>{RT.roomsButton}</button>
        ) : null}
        <button type="button" class="link" onClick={() => panelsOf(store).open({ kind: "members", chat: view.summary.id })}>{T.membersButton}</button>
      </header>
      {details?.pinned != null ? <PinnedBar view={view} id={details.pinned} /> : null}
      {store.notice?.chat === chat ? (
        <div class="notice" role="alert">
          {store.notice.text}{" "}
          <button type="button" class="link" onClick={() => store.dismissNotice()}>{T.close}</button>
        </div>
      ) : null}
      <div class="messages" ref={scroller} onScroll={onScroll} role="log" aria-live="polite" data-newest={newest}>
        {view.loadingOlder ? <p class="placeholder">{T.loadingOlder}</p> : null}
        {view.loaded && messages.length === 0 && outgoing.length === 0 ? (
          <p class="placeholder">{T.noMessages}</p>
        ) : null}
        <ol>
          {messages.map((m) => [
            m.id === firstUnread ? (
              // A list item of its own (a list holds only items), with the separator inside it.
              <li key="divider" ref={divider} class="divider">
                <span role="separator" aria-label={T.newMessages}>{T.newMessages}</span>
              </li>
            ) : null,
            <MessageRow key={m.id} store={store} view={view} message={m} />,
          ])}
          {outgoing.map((o) => (
            <OutgoingRow key={o.key} store={store} view={view} outgoing={o} />
          ))}
        </ol>
      </div>
      <Typing store={store} view={view} />
      <Composer store={store} view={view} />
    </section>
  );
}


function firstName(full: string | null): string {
  // Russian order: Фамилия Имя Отчество.
  const parts = (full ?? "").split(/\s+/).filter(Boolean);
  return parts[1] ?? parts[0] ?? T.someone;
}

function Typing({ store, view }: { store: Store; view: ChatView }) {
  const names = store.typingIn(view).map((oid) => firstName(store.nameOf(view.summary.id, oid)));
  let text = "";
  if (names.length === 1) text = T.typingOne(names[0]!);
  else if (names.length === 2) text = T.typingTwo(names[0]!, names[1]!);
  else if (names.length > 2) text = T.typingMany;
  return (
    <p class="typing" aria-live="polite">
      {text}
    </p>
  );
}

function Presence({ store, chat }: { store: Store; chat: string }) {
  const partner = store.partner(chat);
  const presence = partner === null ? undefined : store.presenceOf(partner);
  if (presence === undefined) return null;
  if (presence.online) return <>{T.online}</>;
  if (presence.last_seen == null) return null;
  const seen = new Date(presence.last_seen * 1000);
  const today = seen.toDateString() === new Date().toDateString();
  const when = today
    ? `${T.today} ${seen.toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit" })}`
    : seen.toLocaleString("ru-RU", { day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });
  return <>{T.lastSeen(when)}</>;
}

function PinnedBar({ view, id }: { view: ChatView; id: number }) {
  const message = view.messages.get(id);
  return (
    <button
      type="button"
      class="pinned"
      data-pinned={id}
      onClick={() => document.querySelector(`li.message[data-id="${id}"]`)?.scrollIntoView({ block: "center" })}
    >
      <span class="label">{message ? T.pinned : T.pinnedNotLoaded}</span>
      <span class="what">{message ? snippet(message) : ""}</span>
    </button>
  );
}

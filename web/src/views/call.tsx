// A lesson's or meeting's page: the preview (camera, microphone, devices)
// before joining, the waiting room, then the video tiles (the one speaking
// marked, a screen share first), the controls (microphone, camera, screen,
// hand, sound only, leave), and beside them the room's chat and its people,
// with the host's controls. Tiles off screen are not received: each tile
// tells the call when it is seen, and only a seen tile is given its stream.

import { useEffect, useMemo, useReducer, useRef, useState } from "preact/hooks";
import { Call } from "../call";
import type { Participant, Track } from "../generated/protocol";
import { showRoomInUrl } from "../place";
import type { Store } from "../store";
import { RT } from "../texts";
import { ChatPane } from "./chatpane";
import "./call.css";

export function CallPage({ store, roomId }: { store: Store; roomId: string }) {
  const call = useMemo(() => new Call(store, roomId), [store, roomId]);
  const [, render] = useReducer((n: number, _: null) => n + 1, 0);
  useEffect(() => {
    const off = call.subscribe(() => render(null));
    void call.preview();
    return () => {
      off();
      call.close();
    };
  }, [call]);
  const toChats = () => {
    call.close();
    showRoomInUrl(null);
    dispatchEvent(new PopStateEvent("popstate"));
  };
  switch (call.phase) {
    case "preview":
      return <Preview call={call} onBack={toChats} />;
    case "joining":
      return <Status text={RT.joining} />;
    case "waiting":
      return (
        <Status text={RT.waiting} note={RT.waitingNote}>
          <button type="button" class="link" onClick={() => void call.leave().then(toChats)}>{RT.leave}</button>
        </Status>
      );
    case "in":
      return <Stage call={call} onLeave={() => void call.leave().then(toChats)} />;
    case "left":
    case "ended":
    case "removed":
    case "refused":
      return (
        <Status text={call.phase === "left" ? RT.left : (call.reason ?? RT.left)} alert={call.phase !== "left"}>
          <button type="button" class="button" onClick={toChats}>{RT.backToChats}</button>
          {call.phase === "left" || call.phase === "refused" ? (
            <button type="button" class="link" onClick={() => location.reload()}>{RT.joinAgain}</button>
          ) : null}
        </Status>
      );
  }
}

function Status({ text, note, alert, children }: { text: string; note?: string; alert?: boolean; children?: preact.ComponentChildren }) {
  return (
    <main class="call-status">
      <p class="call-state" role={alert ? "alert" : "status"}>{text}</p>
      {note ? <p class="muted">{note}</p> : null}
      <div class="actions">{children}</div>
    </main>
  );
}

function Preview({ call, onBack }: { call: Call; onBack: () => void }) {
  const local = call.local;
  return (
    <main class="call-preview">
      <h1>{RT.preview}</h1>
      <div class="tile preview-tile">
        {local.camera && call.want.camera ? <Video track={local.camera} mirrored /> : <span class="avatar">{RT.noCamera}</span>}
      </div>
      {local.problem ? <p role="alert" class="refusal">{local.problem}</p> : null}
      <div class="devices">
        <DeviceChoice call={call} source="camera" />
        <DeviceChoice call={call} source="microphone" />
      </div>
      <label class="check">
        <input type="checkbox" checked={call.want.camera} onChange={(e) => ((call.want.camera = (e.target as HTMLInputElement).checked), call.local.start())} />
        {RT.cameraOn}
      </label>
      <label class="check">
        <input type="checkbox" checked={call.want.microphone} onChange={(e) => ((call.want.microphone = (e.target as HTMLInputElement).checked), call.local.start())} />
        {RT.microphoneOn}
      </label>
      <div class="actions">
        <button type="button" class="button" onClick={() => void call.join()}>{RT.join}</button>
        <button type="button" class="link" onClick={onBack}>{RT.backToChats}</button>
      </div>
    </main>
  );
}

function DeviceChoice({ call, source }: { call: Call; source: "camera" | "microphone" }) {
  const devices = source === "camera" ? call.local.cameras : call.local.microphones;
  const current = source === "camera" ? call.local.cameraId : call.local.microphoneId;
  if (devices.length === 0) return null;
  return (
    <label class="device">
      {source === "camera" ? RT.camera : RT.microphone}
      <select value={current} onChange={(e) => void call.chooseDevice(source, (e.target as HTMLSelectElement).value)}>
        {devices.map((d, i) => (
          <option key={d.deviceId} value={d.deviceId}>{d.label || `${source === "camera" ? RT.camera : RT.microphone} ${i + 1}`}</option>
        ))}
      </select>
    </label>
  );
}

function Stage({ call, onLeave }: { call: Call; onLeave: () => void }) {
  const [side, setSide] = useState<"chat" | "people">("people");
  const me = call.me;
  const people = [...call.participants.values()].sort(byRole);
  const byOwner = (owner: number, source: string) =>
    [...call.tracks.values()].find((t) => t.owner === owner && t.source === source);
  const screens = [...call.tracks.values()].filter((t) => t.source === "screen");
  const audio = [...call.tracks.values()].filter((t) => t.kind === "audio" && t.owner !== me);
  const speaker = call.speaking[0];
  return (
    <div class="call">
      <header class="bar call-bar">
        <h1>{call.record?.title}</h1>
        <span class="muted" role="status">
          {call.media === "connected" ? "" : call.media === "recovering" ? RT.mediaRecovering : RT.connectingMedia}
        </span>
      </header>
      {call.notice ? (
        <div class="banner warn call-notice" role="alert">
          {call.notice} <button type="button" class="link" aria-label={RT.hideNotice} onClick={() => call.dismissNotice()}>✕</button>
        </div>
      ) : null}
      {call.audioOnly ? <div class="banner">{RT.audioOnlyOn}</div> : null}
      <section class="tiles" aria-label={RT.people} data-count={people.length + screens.length} data-crowd={people.length + screens.length > CROWD ? "" : undefined}>
        {screens.map((t) => (
          <RemoteTile key={t.id} call={call} track={t} label={RT.screenOf(call.participants.get(t.owner)?.name ?? "")} screen />
        ))}
        {people.map((p) =>
          p.person === me ? (
            <OwnTile key={p.person} call={call} who={p} speaking={speaker === p.person} />
          ) : (
            <PersonTile key={p.person} call={call} who={p} track={byOwner(p.person, "camera")} speaking={speaker === p.person} />
          ),
        )}
      </section>
      {audio.map((t) => (
        <Sound key={t.id} track={call.received.get(t.id)} />
      ))}
      <Controls call={call} onLeave={onLeave} />
      <aside class="call-side">
        <div class="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={side === "people"} class={side === "people" ? "tab current" : "tab"} onClick={() => setSide("people")}>
            {RT.people} ({people.length}){call.waiters.length > 0 ? ` · ${RT.waitingRoom(call.waiters.length)}` : ""}
          </button>
          <button type="button" role="tab" aria-selected={side === "chat"} class={side === "chat" ? "tab current" : "tab"} onClick={() => setSide("chat")}>
            {RT.chat}
          </button>
        </div>
        {side === "people" ? <People call={call} people={people} /> : <RoomChat call={call} />}
      </aside>
    </div>
  );
}

const CROWD = 20; // more tiles than this: smaller ones, so that a class of 30 fits a laptop's screen
const ROLE_ORDER = ["host", "cohost", "staff", "student", "parent"];

function byRole(a: Participant, b: Participant): number {
  return ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role) || a.name.localeCompare(b.name, "ru");
}

function Badges({ who, speaking }: { who: Participant; speaking: boolean }) {
  return (
    <span class="badges">
      {who.hand ? <span class="hand" title={RT.hand} aria-label={RT.hand}>✋</span> : null}
      {who.muted.includes("microphone") ? <span class="off" aria-label={RT.micOff} title={RT.micOff}>🔇</span> : null}
      {who.status === "away" ? <span class="away">{RT.away}</span> : null}
      {speaking ? <span class="visually-hidden">{RT.speaking}</span> : null}
    </span>
  );
}

function tileClass(who: Participant, speaking: boolean, extra = ""): string {
  return ["tile", speaking ? "speaking" : "", who.hand ? "raised" : "", who.status === "away" ? "away" : "", extra].filter(Boolean).join(" ");
}

function OwnTile({ call, who, speaking }: { call: Call; who: Participant; speaking: boolean }) {
  const camera = call.local.camera;
  const showing = camera !== null && !call.audioOnly && !who.muted.includes("camera");
  return (
    <figure class={tileClass(who, speaking, "own")} data-person={who.person} data-source="camera">
      {showing ? <Video track={camera} mirrored /> : <span class="avatar">{initials(who.name)}</span>}
      <figcaption>
        {RT.you} <Badges who={who} speaking={speaking} />
      </figcaption>
    </figure>
  );
}

function PersonTile({ call, who, track, speaking }: { call: Call; who: Participant; track: Track | undefined; speaking: boolean }) {
  const off = track === undefined || who.muted.includes("camera") || call.audioOnly;
  return (
    <Seen call={call} track={off ? undefined : track}>
      {(seen) => (
        <figure class={tileClass(who, speaking)} data-person={who.person} data-source="camera">
          {!off && seen && track ? <Video track={call.received.get(track.id)} /> : <span class="avatar">{initials(who.name)}</span>}
          <figcaption>
            {who.name} <span class="muted">{RT.role[who.role]}</span> <Badges who={who} speaking={speaking} />
          </figcaption>
        </figure>
      )}
    </Seen>
  );
}

function RemoteTile({ call, track, label, screen }: { call: Call; track: Track; label: string; screen?: boolean }) {
  if (track.owner === call.me) {
    return (
      <figure class="tile screen own" data-person={track.owner} data-source="screen">
        {call.local.screen ? <Video track={call.local.screen} /> : null}
        <figcaption>{label}</figcaption>
      </figure>
    );
  }
  return (
    <Seen call={call} track={call.audioOnly ? undefined : track} wide={screen}>
      {(seen) => (
        <figure class={screen ? "tile screen" : "tile"} data-person={track.owner} data-source={track.source}>
          {seen && !call.audioOnly ? <Video track={call.received.get(track.id)} /> : null}
          <figcaption>{label}</figcaption>
        </figure>
      )}
    </Seen>
  );
}

/** Whether a tile is on screen, told to the call (which tells the SFU); a tile not seen gets no stream. */
function Seen({
  call,
  track,
  wide,
  children,
}: {
  call: Call;
  track: Track | undefined;
  wide?: boolean;
  children: (seen: boolean) => preact.JSX.Element;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [seen, setSeen] = useState(false);
  const id = track?.id;
  useEffect(() => {
    const el = ref.current;
    if (el === null || id === undefined) return;
    const observer = new IntersectionObserver(
      (entries) => {
        const visible = entries.some((e) => e.isIntersecting);
        setSeen(visible);
        call.setVisible(id, visible);
      },
      { threshold: 0.1 },
    );
    observer.observe(el);
    return () => {
      observer.disconnect();
      call.setVisible(id, false);
    };
  }, [call, id]);
  return (
    <div ref={ref} class={wide ? "seen wide" : "seen"}>
      {children(seen && id !== undefined)}
    </div>
  );
}

function Video({ track, mirrored }: { track: MediaStreamTrack | undefined; mirrored?: boolean }) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (el === null) return;
    el.srcObject = track === undefined ? null : new MediaStream([track]);
    return () => {
      el.srcObject = null;
    };
  }, [track]);
  return <video ref={ref} autoplay playsInline muted class={mirrored ? "mirrored" : undefined} />;
}

function Sound({ track }: { track: MediaStreamTrack | undefined }) {
  const ref = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (el === null) return;
    el.srcObject = track === undefined ? null : new MediaStream([track]);
    void el.play().catch(() => undefined); // autoplay refused: the next click in the page plays it
  }, [track]);
  return <audio ref={ref} autoplay class="sound" />;
}

function Controls({ call, onLeave }: { call: Call; onLeave: () => void }) {
  const you = call.you;
  if (you === null) return null;
  const micOff = you.muted.includes("microphone") || call.local.microphone === null;
  const camOff = you.muted.includes("camera") || call.local.camera === null || call.audioOnly;
  const canShare = typeof navigator.mediaDevices?.getDisplayMedia === "function";
  return (
    <nav class="controls" aria-label={RT.hostTools}>
      <button type="button" class={micOff ? "control off" : "control"} aria-pressed={!micOff} onClick={() => void call.setMuted("microphone", !micOff)}>
        {micOff ? RT.unmute("microphone") : RT.mute("microphone")}
      </button>
      <button
        type="button"
        class={camOff ? "control off" : "control"}
        aria-pressed={!camOff}
        disabled={call.audioOnly}
        onClick={() => void call.setMuted("camera", !camOff)}
      >
        {camOff ? RT.unmute("camera") : RT.mute("camera")}
      </button>
      {canShare ? (
        <button type="button" class="control" aria-pressed={call.local.screen !== null} onClick={() => void (call.local.screen ? call.stopScreen() : call.shareScreen())}>
          {call.local.screen ? RT.stopShare : RT.shareScreen}
        </button>
      ) : null}
      <button type="button" class={you.hand ? "control raised" : "control"} aria-pressed={you.hand} onClick={() => void call.raiseHand(!you.hand)}>
        {you.hand ? RT.lowerHand : RT.raiseHand}
      </button>
      <label class="control check">
        <input type="checkbox" checked={call.audioOnly} onChange={(e) => void call.setAudioOnly((e.target as HTMLInputElement).checked)} />
        {RT.audioOnly}
      </label>
      <button type="button" class="control leave" onClick={onLeave}>{RT.leave}</button>
    </nav>
  );
}

function People({ call, people }: { call: Call; people: Participant[] }) {
  const room = call.roomId;
  const [ending, setEnding] = useState(false);
  return (
    <div class="people">
      {call.hosting ? (
        <section class="host-tools" aria-label={RT.hostTools}>
          {call.waiters.length > 0 ? (
            <div class="waiting-room">
              <h2>{RT.waitingRoom(call.waiters.length)}</h2>
              <ul>
                {call.waiters.map((w) => (
                  <li key={w.person}>
                    {w.name}{" "}
                    <button type="button" class="button" onClick={() => void call.host("room.host.admit", { room, person: w.person })}>{RT.admit}</button>
                  </li>
                ))}
              </ul>
              <button type="button" class="link" onClick={() => void call.host("room.host.admit", { room, all: true })}>{RT.admitAll}</button>
            </div>
          ) : null}
          <div class="tool-row">
            <button type="button" class="link" onClick={() => void call.host("room.host.mute_all", { room, forbid: false })}>{RT.muteAll}</button>
            <button type="button" class="link" onClick={() => void call.host("room.host.mute_all", { room, forbid: true })}>{RT.forbidAll}</button>
            <button type="button" class="link" onClick={() => void call.host("room.host.lower_hands", { room })}>{RT.lowerAll}</button>
            <a class="link" href={`/api/v1/rooms/${encodeURIComponent(room)}/attendance.csv`} download>{RT.attendance}</a>
          </div>
          {ending ? (
            <div class="tool-row" role="alertdialog" aria-label={RT.endConfirm}>
              <span>{RT.endConfirm}</span>
              <button type="button" class="button danger" onClick={() => void call.host("room.host.end", { room })}>{RT.endYes}</button>
              <button type="button" class="link" onClick={() => setEnding(false)}>{RT.cancel}</button>
            </div>
          ) : (
            <button type="button" class="link danger" onClick={() => setEnding(true)}>{RT.endForAll}</button>
          )}
        </section>
      ) : null}
      <ul class="people-list">
        {people.map((p) => (
          <li key={p.person} class="person" data-person={p.person}>
            <span class="name">
              {p.person === call.me ? `${p.name} (${RT.you})` : p.name} <span class="muted">{RT.role[p.role]}</span>
            </span>
            <Badges who={p} speaking={call.speaking[0] === p.person} />
            {call.hosting && p.person !== call.me && p.role !== "host" ? <HostActions call={call} who={p} /> : null}
          </li>
        ))}
      </ul>
    </div>
  );
}

function HostActions({ call, who }: { call: Call; who: Participant }) {
  const room = call.roomId;
  const person = who.person;
  const sharing = [...call.tracks.values()].some((t) => t.owner === person && t.source === "screen");
  const owner = call.you?.role === "host";
  return (
    <details class="host-actions">
      <summary>{RT.actionsFor(who.name)}</summary>
      <div class="stack">
        {(["microphone", "camera"] as const).map((source) => (
          <div key={source} class="tool-row">
            {!who.muted.includes(source) ? (
              <button type="button" class="link" onClick={() => void call.host("room.host.mute", { room, person, source, forbid: false })}>{RT.muteHer(source)}</button>
            ) : null}
            {who.forbidden.includes(source) ? (
              <button type="button" class="link" onClick={() => void call.host("room.host.allow", { room, person, source })}>{RT.allow(source)}</button>
            ) : (
              <button type="button" class="link" onClick={() => void call.host("room.host.mute", { room, person, source, forbid: true })}>{RT.forbid(source)}</button>
            )}
          </div>
        ))}
        {sharing ? (
          <button type="button" class="link" onClick={() => void call.host("room.host.stop_screen", { room, person })}>{RT.stopTheirScreen}</button>
        ) : null}
        {who.hand ? (
          <button type="button" class="link" onClick={() => void call.host("room.host.lower_hands", { room, person })}>{RT.lowerTheirHand}</button>
        ) : null}
        {owner && (who.role === "staff" || who.role === "cohost") ? (
          <button
            type="button"
            class="link"
            onClick={() => void call.host("room.host.cohost", { room, person: who.role === "cohost" ? null : person })}
          >
            {who.role === "cohost" ? RT.dropCohost : RT.makeCohost}
          </button>
        ) : null}
        <button type="button" class="link danger" onClick={() => void call.host("room.host.remove", { room, person })}>{RT.remove}</button>
      </div>
    </details>
  );
}

function RoomChat({ call }: { call: Call }) {
  const store = call.store;
  const chat = call.chat;
  const view = chat === null ? undefined : store.chats.get(chat);
  useEffect(() => {
    if (chat !== null && view !== undefined && store.openChat !== chat) store.open(chat);
  }, [store, chat, view]);
  if (view === undefined) return <p class="muted placeholder">{RT.joining}</p>;
  return <ChatPane key={view.summary.id} store={store} view={view} />;
}

function initials(name: string): string {
  return name
    .split(/\s+/)
    .slice(0, 2)
    .map((w) => w[0] ?? "")
    .join("")
    .toUpperCase();
}

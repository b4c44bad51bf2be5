// One lesson or parent meeting as this page takes part in it: the room's
// people, tracks and waiting room as the server tells them, and this page's
// two peer connections to the SFU (docs/protocol.md, "Rooms"): a publishing
// one (our offer, the server's answer) and a subscribing one (the server's
// offer, our answer). The server's word is the truth for mutes, hands and
// roles; the page only mirrors it.
//
// Networks fail in two ways, and both end in the same recovery: the socket
// drops (the store reconnects, and we join again within the grace: place,
// hand and mutes come back), or only the media fails (Wi-Fi to mobile; the
// peer connection goes `failed`, or the server tells us we are `away`): we
// join again on the same socket, which starts our media afresh on new peer
// connections.

import { ConnectionLost, Refused } from "./connection";
import { LocalMedia, type Source } from "./devices";
import type { ChatId, Oid, Requests, ServerEvent } from "./protocol";
import type { IceServer, Participant, RoomJoined, RoomRecord, Track, Waiter } from "./generated/protocol";
import type { Store } from "./store";
import { roomRefusal, RT } from "./texts";

export type Phase =
  | "preview" // choosing devices, not in the room yet
  | "joining"
  | "waiting" // a meeting's waiting room
  | "in"
  | "left" // by one's own choice
  | "ended" // the host ended it
  | "removed" // the host (or the roster) took us out, or we joined elsewhere
  | "refused"; // the join was refused: `reason` says why

export type MediaState = "off" | "connecting" | "connected" | "recovering";

const SOURCES: readonly Source[] = ["microphone", "camera", "screen"];
const DISCONNECTED_GRACE = 4000; // ms a `disconnected` peer connection may take to come back by itself
const MAX_SECTIONS = 12; // the SFU takes 16 sections in an offer; past these, fresh connections
const SHOW_DEBOUNCE = 150; // ms: tiles scrolling past do not each send a `media.show`
// A room whose node is stopping or unreachable (`room.unavailable`) is taken
// over by a live node within the directory's lease: join again meanwhile.
const RETRY_CODES = new Set(["room.unavailable", "server.shutdown"]);
const RETRY_EVERY = 2000; // ms
const RETRY_TIMES = 20;

export type RoomRequest = {
  [T in keyof Requests]: T extends `room.${string}` | `media.${string}` | `rtc.${string}` ? T : never;
}[keyof Requests];

export class Call {
  phase: Phase = "preview";
  media: MediaState = "off";
  record: RoomRecord | null = null;
  you: Participant | null = null;
  participants = new Map<Oid, Participant>();
  tracks = new Map<string, Track>();
  /** What the subscribing connection receives, by track id. */
  received = new Map<string, MediaStreamTrack>();
  waiters: Waiter[] = [];
  speaking: Oid[] = [];
  chat: ChatId | null = null;
  /** Why the page is not (or no longer) in the room, in Russian. */
  reason: string | null = null;
  /** The last thing that happened to us, in Russian («Учитель выключил вам микрофон»). */
  notice: string | null = null;
  audioOnly = false;
  readonly local = new LocalMedia();
  /** What the person chose on the preview: join with these on or off. */
  want = { camera: true, microphone: true };

  private iceServers: IceServer[] = [];
  private devices: Promise<void> = Promise.resolve(); // the preview's camera and microphone, opening
  private pub: Peer | null = null;
  private sub: Peer | null = null;
  private senders = new Map<Source, RTCRtpTransceiver>();
  private subMids = new Map<string, string>(); // mid of the subscribing connection → track id
  private pubChain: Promise<void> = Promise.resolve();
  private subChain: Promise<void> = Promise.resolve();
  private visible = new Set<string>();
  private showTimer: ReturnType<typeof setTimeout> | undefined;
  private disconnectedTimer: ReturnType<typeof setTimeout> | undefined;
  private recovering = false;
  private retries = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private mine = new Set<Source>(); // sources we are muting or stopping ourselves: not the host's doing
  private lowering = false; // we lower our own hand: not the host's doing
  private listeners = new Set<() => void>();
  private unsubscribe: (() => void)[] = [];
  private wasOnline: boolean;

  constructor(
    readonly store: Store,
    readonly roomId: string,
  ) {
    this.wasOnline = store.connection === "online";
    this.unsubscribe.push(
      store.onOtherEvent((event) => this.onEvent(event)),
      store.subscribe(() => this.onStore()),
      this.local.subscribe(() => this.changed()),
    );
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  get me(): Oid | undefined {
    return this.store.me?.person.oid;
  }

  get hosting(): boolean {
    return this.you?.role === "host" || this.you?.role === "cohost";
  }

  get lesson(): boolean {
    return this.record?.kind !== "meeting";
  }

  /** The preview: the camera and microphone on, before joining. */
  preview(): Promise<void> {
    this.devices = this.local.start();
    return this.devices;
  }

  async join(): Promise<void> {
    if (this.phase !== "in" && this.phase !== "waiting") this.phase = "joining"; // a recovery keeps the stage
    this.reason = null;
    this.changed();
    try {
      const joined = await this.store.socket.request("room.join", { room: this.roomId });
      this.retries = 0;
      await this.entered(joined);
    } catch (error) {
      if (error instanceof ConnectionLost) return; // joined again after the next welcome
      if (error instanceof Refused && RETRY_CODES.has(error.code) && this.retries < RETRY_TIMES) {
        this.retries += 1;
        this.notice = RT.roomMoving;
        this.changed();
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => {
          if (this.phase !== "left" && this.phase !== "ended" && this.phase !== "removed") void this.join();
        }, RETRY_EVERY);
        return;
      }
      this.phase = "refused";
      this.reason = error instanceof Refused ? roomRefusal(error.code) : roomRefusal("server.internal");
      this.local.stopAll();
      this.changed();
    }
  }

  async leave(): Promise<void> {
    const wasIn = this.phase === "in" || this.phase === "waiting";
    this.phase = "left";
    this.teardown();
    this.changed();
    if (wasIn) await this.store.socket.request("room.leave", { room: this.roomId }).catch(() => undefined);
  }

  /** The page is done with this room: nothing of it keeps running. */
  close(): void {
    if (this.phase === "in" || this.phase === "waiting") void this.leave();
    this.teardown();
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
  }

  // -- what the server says -----------------------------------------------------------------

  private async entered(joined: RoomJoined): Promise<void> {
    this.record = joined.room;
    this.you = joined.you;
    if (joined.waiting) {
      this.phase = "waiting";
      this.changed();
      return;
    }
    this.phase = "in";
    this.participants = new Map(joined.participants.map((p) => [p.person, p]));
    this.tracks = new Map(joined.tracks.map((t) => [t.id, t]));
    this.iceServers = joined.ice_servers;
    this.chat = joined.chat ?? null;
    this.closePeers();
    this.media = "connecting";
    this.changed();
    await this.devices; // «Войти» pressed before the camera had opened: publish it all the same
    if (!this.want.microphone && !joined.you.muted.includes("microphone")) await this.setMuted("microphone", true);
    if (!this.want.camera && !joined.you.muted.includes("camera")) await this.setMuted("camera", true);
    this.applyOwnState(joined.you, null);
    this.renegotiate();
    this.subscribeTo([...this.tracks.values()]);
  }

  private onEvent(event: ServerEvent): void {
    if (!("room" in event.body)) return;
    const body = event.body as { room: unknown };
    const room = typeof body.room === "string" ? body.room : (body.room as RoomRecord | undefined)?.id;
    if (room !== this.roomId) return;
    switch (event.type) {
      case "room.participant": {
        const { person, change, state } = event.body;
        if (change === "left" || change === "removed") this.participants.delete(person);
        else this.participants.set(person, state);
        if (person === this.me) {
          const before = this.you;
          this.you = state;
          if (change === "away") void this.recover(); // the server lost our media: start it afresh
          else this.applyOwnState(state, before);
        }
        break;
      }
      case "room.track": {
        const { change, track } = event.body;
        if (change === "added") {
          this.tracks.set(track.id, track);
          this.subscribeTo([track]);
        } else {
          this.tracks.delete(track.id);
          this.received.delete(track.id);
          this.visible.delete(track.id);
          if (track.owner === this.me && track.source === "screen" && this.local.screen !== null) {
            // Not our doing: the host stopped our screen share.
            if (!this.mine.has("screen")) this.notice = RT.screenStopped;
            this.mine.delete("screen");
            this.local.stop("screen");
            this.detach("screen");
          }
        }
        break;
      }
      case "rtc.offer":
        this.subChain = this.subChain.then(() => this.answerOffer(event.body.sdp)).catch((e) => this.failed(e));
        return;
      case "room.speaking":
        this.speaking = event.body.people;
        break;
      case "room.waiting":
        if (this.phase !== "waiting") this.waiters = event.body.people;
        break;
      case "room.admitted":
        void this.entered(event.body);
        return;
      case "room.removed":
        this.phase = "removed";
        this.reason = RT.removed(event.body.reason, this.lesson);
        this.teardown();
        break;
      case "room.ended":
        this.phase = "ended";
        this.reason = this.lesson ? RT.lessonEnded : RT.meetingEnded;
        this.teardown();
        break;
      default:
        return;
    }
    this.changed();
  }

  /** The socket went and came back: join again (within the grace our place is kept). */
  private onStore(): void {
    const online = this.store.connection === "online";
    if (online === this.wasOnline) return;
    this.wasOnline = online;
    if (!online) {
      if (this.phase === "in") {
        this.closePeers(); // the server ends them too when it sees the socket gone
        this.media = "recovering";
        this.changed();
      }
      return;
    }
    if (this.phase === "in" || this.phase === "waiting" || this.phase === "joining") void this.join();
  }

  /** Our own state from the server: mutes applied to our tracks, and what the host did, told. */
  private applyOwnState(now: Participant, before: Participant | null): void {
    for (const source of SOURCES) {
      const muted = now.muted.includes(source);
      const track = this.local.track(source);
      if (track !== null && source !== "screen") track.enabled = !muted;
      if (before === null) continue;
      const wasMuted = before.muted.includes(source);
      const wasForbidden = before.forbidden.includes(source);
      const forbidden = now.forbidden.includes(source);
      if (forbidden && !wasForbidden) this.notice = RT.forbidden(source);
      else if (!forbidden && wasForbidden) this.notice = RT.allowed(source);
      else if (muted && !wasMuted && !this.mine.has(source)) this.notice = RT.mutedByHost(source);
      if (muted !== wasMuted) this.mine.delete(source);
    }
    if (before !== null && before.hand && !now.hand && !this.lowering) this.notice = RT.handLowered;
    if (before !== null && before.role !== now.role && now.role === "cohost") this.notice = RT.nowCohost;
    // A source allowed again that was left out of the last offer (a rejoin while it was forbidden).
    if (before !== null && before.forbidden.some((s) => !now.forbidden.includes(s))) this.renegotiate();
  }

  // -- what the person does -------------------------------------------------------------------

  async setMuted(source: "camera" | "microphone", muted: boolean): Promise<void> {
    this.mine.add(source);
    try {
      await this.store.socket.request("room.mute", { room: this.roomId, source, muted });
      const track = this.local.track(source);
      if (track !== null) track.enabled = !muted;
      if (!muted && track === null) {
        await this.local.start(); // given back in audio-only mode, or never opened: open it now
        this.renegotiate();
      }
    } catch (error) {
      this.mine.delete(source);
      this.notice = error instanceof Refused && error.code === "room.unmute_forbidden" ? RT.stillForbidden(source) : this.failure(error);
      this.changed();
    }
  }

  async raiseHand(up: boolean): Promise<void> {
    this.lowering = !up;
    await this.act("room.hand", { room: this.roomId, up });
    this.lowering = false;
  }

  async shareScreen(): Promise<void> {
    if (this.you?.forbidden.includes("screen")) {
      this.notice = RT.stillForbidden("screen");
      this.changed();
      return;
    }
    const track = await this.local.shareScreen(() => void this.stopScreen());
    if (track !== null) this.renegotiate();
  }

  async stopScreen(): Promise<void> {
    if (this.local.screen === null) return;
    this.mine.add("screen");
    this.local.stop("screen");
    this.detach("screen");
    await this.act("media.unpublish", { room: this.roomId, source: "screen" });
  }

  /** Another camera or microphone: swapped into the sender, no renegotiation. */
  async chooseDevice(source: "camera" | "microphone", deviceId: string): Promise<void> {
    const track = await this.local.choose(source, deviceId);
    if (track === null) return;
    track.enabled = !(this.you?.muted.includes(source) ?? !this.want[source]);
    const sender = this.senders.get(source);
    if (sender !== undefined) await sender.sender.replaceTrack(track);
  }

  /** A weak connection: no video in either direction, sound only. */
  async setAudioOnly(on: boolean): Promise<void> {
    this.audioOnly = on;
    this.changed();
    if (on) {
      this.local.stop("camera");
      this.detach("camera");
      if (this.phase === "in") await this.act("media.unpublish", { room: this.roomId, source: "camera" });
    } else if (this.phase === "in") {
      await this.local.start();
      this.renegotiate();
    }
    this.sendShown();
  }

  /** A tile came on screen or went off it: the SFU sends only what is shown. */
  setVisible(trackId: string, shown: boolean): void {
    const had = this.visible.has(trackId);
    if (shown === had) return;
    if (shown) this.visible.add(trackId);
    else this.visible.delete(trackId);
    clearTimeout(this.showTimer);
    this.showTimer = setTimeout(() => this.sendShown(), SHOW_DEBOUNCE);
  }

  private sendShown(): void {
    if (this.phase !== "in") return;
    const tracks = this.audioOnly ? [] : [...this.visible].filter((id) => this.tracks.get(id)?.kind === "video").slice(0, 200);
    void this.act("media.show", { room: this.roomId, tracks }, true);
  }

  /** A host control (`room.host.*`); a refusal is told, in Russian. */
  host<T extends RoomRequest>(type: T, body: Requests[T]): Promise<void> {
    return this.act(type, body);
  }

  private async act<T extends RoomRequest>(type: T, body: Requests[T], quiet = false): Promise<void> {
    try {
      await this.store.socket.request(type, body);
    } catch (error) {
      if (quiet && error instanceof ConnectionLost) return;
      this.notice = this.failure(error);
      this.changed();
    }
  }

  private failure(error: unknown): string {
    if (error instanceof Refused) return roomRefusal(error.code);
    if (error instanceof ConnectionLost) return RT.mediaRecovering;
    return roomRefusal("server.internal");
  }

  dismissNotice(): void {
    this.notice = null;
    this.changed();
  }

  // -- the peer connections ---------------------------------------------------------------------

  private peer(role: "pub" | "sub"): Peer {
    const peer = new Peer(role, this.iceServers, (candidate) => {
      const body: Requests["rtc.candidate"] = { room: this.roomId, pc: role, candidate };
      void this.act("rtc.candidate", body, true);
    });
    peer.pc.addEventListener("connectionstatechange", () => this.watch(peer.pc));
    if (role === "sub") {
      peer.pc.addEventListener("track", (e) => {
        const id = e.transceiver.mid === null ? undefined : this.subMids.get(e.transceiver.mid);
        if (id === undefined) return;
        this.received.set(id, e.track);
        this.changed();
      });
    }
    return peer;
  }

  private watch(pc: RTCPeerConnection): void {
    if (pc !== this.pub?.pc && pc !== this.sub?.pc) return;
    const states = [this.pub?.pc.connectionState, this.sub?.pc.connectionState].filter((s) => s !== undefined);
    clearTimeout(this.disconnectedTimer);
    if (states.includes("failed")) {
      void this.recover();
      return;
    }
    if (states.includes("disconnected")) {
      this.disconnectedTimer = setTimeout(() => void this.recover(), DISCONNECTED_GRACE);
    }
    const connected = states.length > 0 && states.every((s) => s === "connected");
    const media: MediaState = connected ? "connected" : this.media === "recovering" ? "recovering" : "connecting";
    if (media !== this.media) {
      this.media = media;
      this.changed();
    }
  }

  /** Our media failed but the socket is up: join again here, which starts it afresh. */
  private async recover(): Promise<void> {
    const placed = this.phase === "in" || this.phase === "waiting"; // a waiter whose room moved joins again too
    if (this.recovering || !placed || this.store.connection !== "online") return;
    this.recovering = true;
    this.media = "recovering";
    this.closePeers();
    this.changed();
    try {
      await this.join();
    } finally {
      this.recovering = false;
    }
  }

  /** Offer what we publish now (again): a track added, a screen shared, a source allowed back. */
  private renegotiate(): void {
    this.pubChain = this.pubChain.then(() => this.publish()).catch((e) => this.failed(e));
  }

  private async publish(): Promise<void> {
    if (this.phase !== "in") return;
    const forbidden = this.you?.forbidden ?? [];
    const wanted = SOURCES.filter((s) => this.local.track(s) !== null && !forbidden.includes(s) && !(s === "camera" && this.audioOnly));
    if (this.pub !== null && this.pub.pc.getTransceivers().length >= MAX_SECTIONS) {
      void this.recover(); // many sources stopped and sent again: start on fresh connections
      return;
    }
    const peer = this.pub ?? (this.pub = this.peer("pub"));
    const pc = peer.pc;
    let changed = false;
    for (const source of SOURCES) {
      const track = wanted.includes(source) ? this.local.track(source) : null;
      const sender = this.senders.get(source);
      if (sender === undefined) {
        if (track === null) continue;
        this.senders.set(source, pc.addTransceiver(track, { direction: "sendonly" }));
        changed = true;
      } else if (sender.sender.track !== track || sender.direction !== (track ? "sendonly" : "inactive")) {
        await sender.sender.replaceTrack(track);
        sender.direction = track ? "sendonly" : "inactive";
        changed = true;
      }
    }
    if (!changed && pc.remoteDescription !== null) return;
    const publishing = [...this.senders].filter(([, t]) => t.direction === "sendonly" && t.sender.track !== null);
    if (publishing.length === 0) return;
    await pc.setLocalDescription(await pc.createOffer());
    const sdp = pc.localDescription?.sdp ?? "";
    const tracks = publishing.map(([source, t]) => ({ mid: t.mid ?? "", source }));
    const reply = this.store.socket.request("rtc.publish", { room: this.roomId, sdp, tracks });
    peer.sent();
    const answer = await reply;
    if (peer !== this.pub) return; // closed meanwhile (a recovery)
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  }

  private subscribeTo(tracks: Track[]): void {
    const ids = tracks.filter((t) => t.owner !== this.me).map((t) => t.id);
    if (ids.length === 0 || this.phase !== "in") return;
    void this.act("media.subscribe", { room: this.roomId, tracks: ids.slice(0, 200) }, true);
  }

  private async answerOffer(sdp: string): Promise<void> {
    if (this.phase !== "in") return;
    this.subMids = new Map([...this.subMids, ...midsOf(sdp)]);
    const peer = this.sub ?? (this.sub = this.peer("sub"));
    const pc = peer.pc;
    await pc.setRemoteDescription({ type: "offer", sdp });
    for (const t of pc.getTransceivers()) {
      const id = t.mid === null ? undefined : this.subMids.get(t.mid);
      if (id !== undefined && t.receiver.track.readyState === "live" && t.currentDirection !== "inactive") {
        this.received.set(id, t.receiver.track);
      }
    }
    await pc.setLocalDescription(await pc.createAnswer());
    const reply = this.store.socket.request("rtc.answer", { room: this.roomId, sdp: pc.localDescription?.sdp ?? "" });
    peer.sent();
    await reply;
    this.changed();
  }

  private failed(error: unknown): void {
    if (error instanceof ConnectionLost) return; // the welcome that follows joins again
    this.notice = this.failure(error);
    this.changed();
  }

  /** Stop sending one source (screen share ended, camera given back). Its section
   * stays, inactive: the SFU ended that publication, and a source sent again
   * goes out on a section of its own, a new publication. */
  private detach(source: Source): void {
    const sender = this.senders.get(source);
    if (sender === undefined) return;
    this.senders.delete(source);
    void sender.sender.replaceTrack(null);
    sender.direction = "inactive";
  }

  private closePeers(): void {
    clearTimeout(this.disconnectedTimer);
    this.pub?.pc.close();
    this.sub?.pc.close();
    this.pub = this.sub = null;
    this.senders.clear();
    this.subMids.clear();
    this.received.clear();
    this.pubChain = Promise.resolve();
    this.subChain = Promise.resolve();
  }

  private teardown(): void {
    this.closePeers();
    clearTimeout(this.showTimer);
    clearTimeout(this.retryTimer);
    this.media = "off";
    this.local.stopAll();
  }

  /** The peer connections, for the page's «Связь» line (and the tests' getStats). */
  peers(): RTCPeerConnection[] {
    return [this.pub, this.sub].flatMap((peer) => (peer === null ? [] : [peer.pc]));
  }
}

type WireCandidate = Requests["rtc.candidate"]["candidate"];

/** One peer connection to the SFU, whose own ICE candidates wait until the
 * offer or answer they belong to has been sent, then trickle. */
class Peer {
  readonly pc: RTCPeerConnection;
  private gone = false;
  private early: WireCandidate[] = [];

  constructor(
    readonly role: "pub" | "sub",
    iceServers: IceServer[],
    private readonly trickle: (candidate: WireCandidate) => void,
  ) {
    this.pc = new RTCPeerConnection({ iceServers, bundlePolicy: "max-bundle" });
    this.pc.addEventListener("icecandidate", (e) => {
      if (e.candidate !== null && e.candidate.candidate === "") return; // Chromium's end-of-generation marker
      const candidate: WireCandidate =
        e.candidate === null
          ? null
          : { candidate: e.candidate.candidate, sdp_mid: e.candidate.sdpMid, sdp_mline_index: e.candidate.sdpMLineIndex };
      if (this.gone) this.trickle(candidate);
      else this.early.push(candidate);
    });
  }

  /** The description went to the server: what waited trickles now. */
  sent(): void {
    if (this.gone) return;
    this.gone = true;
    for (const candidate of this.early.splice(0)) this.trickle(candidate);
  }
}

/** The subscribing offer's sections: which mid carries which track (its `a=msid` track id). */
export function midsOf(sdp: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    const mid = /\r?\na=mid:(\S+)/.exec(section)?.[1];
    const track = /\r?\na=msid:\S+ (\S+)/.exec(section)?.[1];
    if (mid !== undefined && track !== undefined) found.set(mid, track);
  }
  return found;
}

// This browser's camera, microphone and screen: the tracks a person publishes
// in a lesson, the devices to choose from, and what went wrong in Russian
// (no permission, no device). Nothing here knows of rooms or the server.

import { RT } from "./texts";

export type Source = "camera" | "microphone" | "screen";

/** Modest by design: a school's uplink carries a class of these. */
const CAMERA: MediaTrackConstraints = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24, max: 30 } };
const SCREEN: MediaTrackConstraints = { frameRate: { ideal: 10, max: 15 } };

export class LocalMedia {
  camera: MediaStreamTrack | null = null;
  microphone: MediaStreamTrack | null = null;
  screen: MediaStreamTrack | null = null;
  cameras: MediaDeviceInfo[] = [];
  microphones: MediaDeviceInfo[] = [];
  cameraId: string | undefined;
  microphoneId: string | undefined;
  /** Why a device is missing, in Russian (null when both work). */
  problem: string | null = null;
  private listeners = new Set<() => void>();

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  track(source: Source): MediaStreamTrack | null {
    return this[source];
  }

  /** Camera and microphone, those not open yet, each on its own so that one refused still leaves the other. */
  async start(): Promise<void> {
    if (!navigator.mediaDevices?.getUserMedia) {
      this.problem = RT.noMediaHere;
      this.changed();
      return;
    }
    this.problem = null;
    const [camera, microphone] = await Promise.all([
      this.camera ?? this.open("camera", this.cameraId),
      this.microphone ?? this.open("microphone", this.microphoneId),
    ]);
    this.replace("camera", camera);
    this.replace("microphone", microphone);
    await this.listDevices();
    this.changed();
  }

  /** Another camera or microphone from the list; the caller swaps it into its senders. */
  async choose(source: "camera" | "microphone", deviceId: string): Promise<MediaStreamTrack | null> {
    if (source === "camera") this.cameraId = deviceId;
    else this.microphoneId = deviceId;
    const track = await this.open(source, deviceId);
    if (track !== null) this.replace(source, track);
    this.changed();
    return track;
  }

  /** The screen (or a window), as the browser lets the person pick it; null if they cancel. */
  async shareScreen(onEnded: () => void): Promise<MediaStreamTrack | null> {
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: SCREEN, audio: false });
    } catch {
      return null; // cancelled, or refused: nothing to tell but that it did not start
    }
    const track = stream.getVideoTracks()[0] ?? null;
    if (track === null) return null;
    track.contentHint = "detail"; // text on slides stays sharp rather than smooth
    track.addEventListener("ended", onEnded); // the browser's own «Прекратить показ»
    this.replace("screen", track);
    this.changed();
    return track;
  }

  /** Give a device back (the camera's light goes off); `start` or `choose` opens it again. */
  stop(source: Source): void {
    this.replace(source, null);
    this.changed();
  }

  stopAll(): void {
    for (const source of ["camera", "microphone", "screen"] as const) this.replace(source, null);
    this.changed();
  }

  private replace(source: Source, track: MediaStreamTrack | null): void {
    const old = this[source];
    if (old !== null && old !== track) old.stop();
    this[source] = track;
  }

  private async open(source: "camera" | "microphone", deviceId: string | undefined): Promise<MediaStreamTrack | null> {
    const device = deviceId === undefined ? {} : { deviceId: { exact: deviceId } };
    const constraints: MediaStreamConstraints =
      source === "camera" ? { video: { ...CAMERA, ...device } } : { audio: { echoCancellation: true, noiseSuppression: true, ...device } };
    try {
      const stream = await navigator.mediaDevices.getUserMedia(constraints);
      const track = (source === "camera" ? stream.getVideoTracks() : stream.getAudioTracks())[0] ?? null;
      if (track !== null) {
        if (source === "camera") this.cameraId = track.getSettings().deviceId;
        else this.microphoneId = track.getSettings().deviceId;
      }
      return track;
    } catch (error) {
      const name = error instanceof DOMException ? error.name : "";
      this.problem = name === "NotAllowedError" ? RT.mediaDenied : name === "NotFoundError" ? RT.noDevice(source) : RT.deviceBusy(source);
      return null;
    }
  }

  private async listDevices(): Promise<void> {
    try {
      const devices = await navigator.mediaDevices.enumerateDevices();
      this.cameras = devices.filter((d) => d.kind === "videoinput" && d.deviceId !== "");
      this.microphones = devices.filter((d) => d.kind === "audioinput" && d.deviceId !== "");
    } catch {
      this.cameras = [];
      this.microphones = [];
    }
  }
}

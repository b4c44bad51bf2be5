// The frames of docs/protocol.md (version 1) that this client speaks, and the
// codec: one msgpack map per binary WebSocket frame, {type, id?, body?}.
//
// Written by hand against docs/protocol.md until the server exports its JSON
// Schema (issue 13); then these types are generated from that export.

import { decode, encode } from "@msgpack/msgpack";

export const PROTOCOL_VERSION = 1;

export type ChatId = string;
export type Oid = number;
export type RequestId = number;

export interface Person {
  oid: Oid;
  full_name: string;
}

export interface Profile {
  person: Person;
  roles: { school_id: string; school_name: string; role: string }[];
}

export interface Welcome {
  session_id: string;
  protocol: number;
  server: string;
  profile: Profile;
  limits: { max_frame: number; max_text: number; frames_per_second: number; frame_burst: number };
  heartbeat: number;
  expires_at: number;
}

export interface ChatEventBody {
  chat: ChatId;
  seq: number;
  kind: string;
  author: Oid | null;
  at: number;
  data: Record<string, unknown>;
}

export interface ChatSummary {
  id: ChatId;
  kind: string;
  title: string;
  school_id: string | null;
  class_id: string | null;
  members: number;
  last_seq: number;
  read_seq: number;
  unread: number;
  last_message: ChatEventBody | null;
}

export interface ErrorBody {
  code: string;
  message: string;
  retry_after?: number;
}

/** What the client sends: request type → body. */
export interface Requests {
  hello: { v: number; client: string; resume?: Record<ChatId, number> };
  ping: Record<string, never>;
  chats: Record<string, never>;
  history: { chat: ChatId; before?: number; after?: number; limit?: number };
  send: { chat: ChatId; text: string; key: string; reply_to?: number };
  read: { chat: ChatId; seq: number };
  sync: { positions: Record<ChatId, number> };
}

/** What the server replies to each request. */
export interface Replies {
  hello: Welcome;
  ping: { time: number };
  chats: { chats: ChatSummary[] };
  history: { chat: ChatId; events: ChatEventBody[]; more: boolean };
  send: { chat: ChatId; seq: number; message_id: number; duplicate: boolean };
  read: { chat: ChatId; read_seq: number };
  sync: { positions: Record<ChatId, number> };
}

/** Events: frames the server sends without an id (and the ones this client acts on). */
export type ServerEvent =
  | { type: "chat.event"; body: ChatEventBody }
  | { type: "gap"; body: { chat: ChatId; from_seq: number; to_seq: number } }
  | { type: "synced"; body: { positions: Record<ChatId, number> } }
  | { type: "chat.removed"; body: { chat: ChatId } }
  | { type: "receipt"; body: { chat: ChatId; person: Oid; seq: number } }
  | { type: "reauthed"; body: { expires_at: number } }
  | { type: "goodbye"; body: { code: string; message: string } }
  | { type: "error"; body: ErrorBody };

export interface Frame {
  type: string;
  id?: RequestId | string;
  body?: Record<string, unknown> | null;
}

export function encodeFrame(type: string, id: RequestId | undefined, body: object): Uint8Array {
  const frame: Frame = { type, body: body as Record<string, unknown> };
  if (id !== undefined) frame.id = id;
  return encode(frame);
}

/** One frame from the server, or null when it is not a map with a string `type`. */
export function decodeFrame(data: ArrayBuffer): Frame | null {
  let value: unknown;
  try {
    value = decode(new Uint8Array(data));
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const frame = value as Record<string, unknown>;
  if (typeof frame.type !== "string") return null;
  const body = frame.body;
  return {
    type: frame.type,
    id: typeof frame.id === "number" || typeof frame.id === "string" ? frame.id : undefined,
    body: typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {},
  };
}

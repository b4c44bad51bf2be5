// The frames of docs/protocol.md that this client speaks, typed from the
// server's own schema (web/src/generated/protocol.ts, made by `make schema`
// from signaling/), and the codec: one msgpack map per binary WebSocket
// frame, {type, id?, body?}.

import { decode, encode } from "@msgpack/msgpack";
import type {
  ClientMessages,
  Error as GeneratedError,
  Replies as ReplyTypes,
  RequestId,
  ServerMessages,
} from "./generated/protocol";

export { PROTOCOL_VERSION } from "./generated/protocol";
export type {
  ChatDetails,
  ChatEventBody,
  ChatSummary,
  ErrorCode,
  MemberEntry,
  PersonFound,
  PresenceEntry,
  Profile,
  Report,
  RequestId,
  Welcome,
} from "./generated/protocol";

export type ChatId = string;
export type Oid = number;
export type ErrorBody = GeneratedError;

/** What the client sends: request type → body. */
export type Requests = ClientMessages;

/** What the server replies to each request (its body), from the schema's request → reply table. */
export type Replies = {
  [T in keyof ClientMessages]: ReplyTypes[T] extends keyof ServerMessages ? ServerMessages[ReplyTypes[T]] : never;
};

/** Any frame the server sends, by type: events are the ones without an id. */
export type ServerEvent = { [T in keyof ServerMessages]: { type: T; body: ServerMessages[T] } }[keyof ServerMessages];

export interface Frame {
  type: string;
  id?: RequestId;
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

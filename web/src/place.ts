// Where the person is in the page, kept in its URL (`/?chat=<id>`): a reload,
// the phone's back button and a sign-in after the session expired all come
// back to the same chat. The server sends a signed-out browser through ESIA
// and back to this URL (`/auth/login?return_to=…`, a local path only).

import type { ChatId } from "./protocol";

const PARAM = "chat";

/** The chat the URL names, if any. */
export function chatInUrl(): ChatId | null {
  const chat = new URLSearchParams(location.search).get(PARAM);
  return chat === null || chat === "" ? null : chat;
}

/** Put the open chat into the URL: a new history entry, so «back» returns to the list. */
export function showInUrl(chat: ChatId | null): void {
  if (chat === chatInUrl()) return;
  const url = new URL(location.href);
  if (chat === null) url.searchParams.delete(PARAM);
  else url.searchParams.set(PARAM, chat);
  history.pushState(null, "", url.pathname + url.search);
}

/** The sign-in link that comes back here. */
export function signInHere(): string {
  return `/auth/login?return_to=${encodeURIComponent(location.pathname + location.search)}`;
}

const ROOM = "room";

/** The lesson or meeting the URL names (`/?room=<id>`): a reload comes back into it. */
export function roomInUrl(): string | null {
  const room = new URLSearchParams(location.search).get(ROOM);
  return room === null || room === "" ? null : room;
}

/** Enter a room's page (a new history entry) or, with null, leave it for the chats. */
export function showRoomInUrl(room: string | null): void {
  if (room === roomInUrl()) return;
  const url = new URL(location.href);
  if (room === null) url.searchParams.delete(ROOM);
  else url.searchParams.set(ROOM, room);
  history.pushState(null, "", url.pathname + url.search);
}

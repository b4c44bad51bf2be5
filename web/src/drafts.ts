// What a person has typed and not sent, per chat, in this browser's
// localStorage: it outlives a reload and a sign-in after the session expired
// («Сессия истекла — войдите снова» must not cost a teacher her long
// message). Keyed by person, so a shared PC shows nobody another's draft;
// signing out clears that person's drafts.

import type { ChatId, Oid } from "./protocol";

const PREFIX = "zvonok.draft.";

function name(person: Oid, chat: ChatId): string {
  return `${PREFIX}${person}.${chat}`;
}

export function loadDraft(person: Oid, chat: ChatId): string {
  try {
    return localStorage.getItem(name(person, chat)) ?? "";
  } catch {
    return ""; // storage off (a private window's policy): drafts live as long as the page
  }
}

export function saveDraft(person: Oid, chat: ChatId, text: string): void {
  try {
    if (text === "") localStorage.removeItem(name(person, chat));
    else localStorage.setItem(name(person, chat), text);
  } catch {
    // full or off: the text stays in the composer, only not on disk
  }
}

export function forgetDrafts(person: Oid): void {
  try {
    const mine = `${PREFIX}${person}.`;
    for (const key of Object.keys(localStorage)) if (key.startsWith(mine)) localStorage.removeItem(key);
  } catch {
    // nothing kept
  }
}

// Writing a message: Enter sends, Shift+Enter is a new line. Above it the
// message being answered; instead of it, why one may not write now (muted,
// or the chat is for announcements and one is not its moderator). What is
// typed is kept as the chat's draft (drafts.ts) until it is sent.

import { useEffect, useReducer, useState } from "preact/hooks";
import { loadDraft, saveDraft } from "../drafts";
import type { ChatView, Store } from "../store";
import { T } from "../texts";
import { snippet, time } from "./message";

export function Composer({ store, view }: { store: Store; view: ChatView }) {
  const chat = view.summary.id;
  const person = store.me?.person.oid;
  const [text, setTextState] = useState(() => (person === undefined ? "" : loadDraft(person, chat)));
  const setText = (value: string) => {
    setTextState(value);
    if (person !== undefined) saveDraft(person, chat, value);
  };
  const details = store.details.get(chat);
  const muted = store.mutedUntil(chat);
  const replyTo = store.replying.get(chat);
  // A mute ends by itself: draw the composer again when it does.
  const [, redraw] = useReducer((n: number, _: null) => n + 1, 0);
  useEffect(() => {
    if (muted === null) return;
    const timer = setTimeout(() => redraw(null), Math.max(0, muted * 1000 - Date.now()) + 100);
    return () => clearTimeout(timer);
  }, [muted]);
  const submit = () => {
    if (text.trim() === "") return;
    store.sendMessage(chat, text); // in the outbox (on disk) before the draft goes
    setText("");
  };
  if (details?.announcements === true && !details.moderator) {
    return <p class="composer closed" role="status">{T.announcementsOnly}</p>;
  }
  const quoted = replyTo === undefined ? undefined : view.messages.get(replyTo);
  return (
    <div class="composer-box">
      {muted !== null ? (
        <p class="composer-state" role="status">{T.mutedUntil(time(muted))}</p>
      ) : null}
      {replyTo !== undefined ? (
        <div class="replying">
          <span class="quote-text">
            <span class="who">
              {T.replyingTo(quoted ? (store.nameOf(chat, quoted.author) ?? T.someone) : T.someone)}
            </span>
            <span class="what">{snippet(quoted)}</span>
          </span>
          <button type="button" class="link" aria-label={T.cancelReply} onClick={() => store.reply(chat, null)}>
            ✕
          </button>
        </div>
      ) : null}
      <form
        class="composer"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <label class="visually-hidden" for="composer-text">{T.messageLabel}</label>
        <textarea
          id="composer-text"
          rows={1}
          placeholder={T.messagePlaceholder}
          value={text}
          onInput={(e) => {
            setText((e.target as HTMLTextAreaElement).value);
            store.typing(chat);
          }}
          onKeyDown={(e) => {
            // Enter sends, Shift+Enter is a new line; not while an IME is composing a word.
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              submit();
            } else if (e.key === "Escape" && replyTo !== undefined) {
              store.reply(chat, null);
            }
          }}
        />
        <button type="submit" class="button">{T.send}</button>
      </form>
    </div>
  );
}

// Writing a message: Enter sends, Shift+Enter is a new line. What is typed
// is kept as the chat's draft (drafts.ts) until it is sent.

import { useState } from "preact/hooks";
import { loadDraft, saveDraft } from "../drafts";
import type { Store } from "../store";
import { T } from "../texts";

export function Composer({ store, chat }: { store: Store; chat: string }) {
  const person = store.me?.person.oid;
  const [text, setTextState] = useState(() => (person === undefined ? "" : loadDraft(person, chat)));
  const setText = (value: string) => {
    setTextState(value);
    if (person !== undefined) saveDraft(person, chat, value);
  };
  const submit = () => {
    if (text.trim() === "") return;
    store.sendMessage(chat, text); // in the outbox (on disk) before the draft goes
    setText("");
  };
  return (
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
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          // Enter sends, Shift+Enter is a new line; not while an IME is composing a word.
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            submit();
          }
        }}
      />
      <button type="submit" class="button">{T.send}</button>
    </form>
  );
}

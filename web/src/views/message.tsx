// One message of a chat, as stored, or as written and not yet acknowledged:
// its author, the message it answers, its reactions, and a «…» menu of what
// the reader may do with it (reply, react, edit or delete one's own, report;
// a moderator also deletes, pins and mutes).

import { useState } from "preact/hooks";
import type { ChatView, Message, Outgoing, Store } from "../store";
import { refusalText, T } from "../texts";
import { Popup } from "./popup";
import { EmojiPicker, Reactions } from "./reactions";

export function time(at: number): string {
  return new Date(at * 1000).toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit" });
}

const MUTES: [string, number][] = [
  [T.mute15m, 15 * 60],
  [T.mute1h, 60 * 60],
  [T.mute1d, 24 * 60 * 60],
];

/** A short line of a message for a quote or the pinned bar. */
export function snippet(message: Message | undefined): string {
  if (message === undefined) return T.earlierMessage;
  if (message.deleted) return T.deleted;
  return message.text.length > 120 ? `${message.text.slice(0, 120)}…` : message.text;
}

export function Quote({ store, view, id }: { store: Store; view: ChatView; id: number }) {
  const quoted = view.messages.get(id);
  const name = quoted ? store.nameOf(view.summary.id, quoted.author) : null;
  return (
    <button
      type="button"
      class="quote"
      data-reply-to={id}
      onClick={() => document.querySelector(`li.message[data-id="${id}"]`)?.scrollIntoView({ block: "center" })}
    >
      <span class="who">{name ?? T.someone}</span>
      <span class="what">{snippet(quoted)}</span>
    </button>
  );
}

type Open = null | "menu" | "mute" | "picker" | "edit" | "report";

export function MessageRow({ store, view, message }: { store: Store; view: ChatView; message: Message }) {
  const chat = view.summary.id;
  const me = store.me?.person.oid;
  const mine = message.author === me;
  const details = store.details.get(chat);
  const moderator = details?.moderator === true;
  const author = store.member(chat, message.author);
  const [open, setOpen] = useState<Open>(null);
  const [draft, setDraft] = useState("");
  const [reported, setReported] = useState(false);
  const close = () => setOpen(null);
  const name = mine ? T.mine : (author?.full_name ?? T.someone);
  const pinned = details?.pinned === message.id;

  const item = (label: string, run: () => void) => (
    <button type="button" role="menuitem" onClick={run}>
      {label}
    </button>
  );

  return (
    <li
      class={mine ? "message mine" : "message"}
      data-id={message.id}
      data-state="sent"
      onKeyDown={(e) => {
        // Escape closes what is open on this message, wherever the focus is in it.
        if (e.key === "Escape" && open !== null && open !== "edit") close();
      }}
    >
      <span class="author">{name}</span>
      {message.replyTo !== null ? <Quote store={store} view={view} id={message.replyTo} /> : null}
      {message.deleted ? (
        <p class="text deleted">{T.deleted}</p>
      ) : open === "edit" ? (
        <form
          class="editor"
          onSubmit={(e) => {
            e.preventDefault();
            if (draft.trim() === "" || draft === message.text) return close();
            void store.edit(chat, message.id, draft).then((done) => done && close());
          }}
          onKeyDown={(e) => {
            if (e.key === "Escape") close();
          }}
        >
          <label class="visually-hidden" for={`edit-${message.id}`}>{T.editLabel}</label>
          <textarea
            id={`edit-${message.id}`}
            value={draft}
            ref={(el) => el?.focus()}
            onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
                e.preventDefault();
                (e.currentTarget.form as HTMLFormElement).requestSubmit();
              }
            }}
          />
          <button type="submit" class="link">{T.save}</button>
          <button type="button" class="link" onClick={close}>{T.cancel}</button>
        </form>
      ) : (
        <p class="text">{message.text}</p>
      )}
      <Reactions store={store} view={view} id={message.id} />
      <span class="meta">
        {message.edited && !message.deleted ? <span class="edited">{T.edited} · </span> : null}
        {time(message.at)}
        {mine && !message.deleted && store.readByOthers(view, message.id) ? <span class="read"> · {T.readMark}</span> : null}
      </span>
      {reported ? <p class="done" role="status">{T.reportSent}</p> : null}
      {message.deleted ? null : (
        <button
          type="button"
          class="more"
          aria-label={T.messageActions}
          aria-haspopup="menu"
          aria-expanded={open === "menu" || open === "mute" ? "true" : "false"}
          onClick={() => setOpen(open === "menu" ? null : "menu")}
        >
          …
        </button>
      )}
      {open === "menu" ? (
        <Popup label={T.messageActions} role="menu" onClose={close}>
          {item(T.reply, () => {
            store.reply(chat, message.id);
            close();
            document.getElementById("composer-text")?.focus();
          })}
          {item(T.addReaction, () => setOpen("picker"))}
          {mine
            ? item(T.edit, () => {
                setDraft(message.text);
                setOpen("edit");
              })
            : null}
          {mine ? item(T.delete, () => void store.remove(chat, message.id).then(close)) : null}
          {!mine && moderator ? item(T.delete, () => void store.moderateDelete(chat, message.id).then(close)) : null}
          {moderator
            ? item(pinned ? T.unpin : T.pin, () => void store.pin(chat, pinned ? null : message.id).then(close))
            : null}
          {!mine && moderator && message.author !== null && author?.moderator !== true
            ? item(T.muteAuthor, () => setOpen("mute"))
            : null}
          {!mine ? item(T.report, () => setOpen("report")) : null}
        </Popup>
      ) : null}
      {open === "mute" && message.author !== null ? (
        <Popup label={T.muteAuthor} role="menu" onClose={close}>
          {MUTES.map(([label, seconds]) =>
            item(label, () => void store.mute(chat, message.author as number, seconds).then(close)),
          )}
        </Popup>
      ) : null}
      {open === "picker" ? (
        <EmojiPicker
          onClose={close}
          onPick={(emoji) => {
            close();
            void store.react(chat, message.id, emoji, true);
          }}
        />
      ) : null}
      {open === "report" ? (
        <ReportDialog
          onClose={close}
          onSend={(reason) =>
            void store.report(chat, message.id, reason).then((done) => {
              if (done) {
                setReported(true);
                close();
              }
            })
          }
        />
      ) : null}
    </li>
  );
}

function ReportDialog({ onSend, onClose }: { onSend: (reason: string) => void; onClose: () => void }) {
  const [reason, setReason] = useState("");
  return (
    <Popup label={T.reportTitle} role="dialog" onClose={onClose} className="report">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (reason.trim() !== "") onSend(reason.trim());
        }}
      >
        <label for="report-reason">{T.reportReason}</label>
        <textarea
          id="report-reason"
          maxLength={1000}
          value={reason}
          onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)}
        />
        <button type="submit" class="button">{T.reportSend}</button>
        <button type="button" class="link" onClick={onClose}>{T.cancel}</button>
      </form>
    </Popup>
  );
}

export function OutgoingRow({ store, view, outgoing }: { store: Store; view: ChatView; outgoing: Outgoing }) {
  const refused = outgoing.refusal;
  return (
    <li class={refused ? "message mine refused" : "message mine pending"} data-state={outgoing.state}>
      {outgoing.replyTo != null ? <Quote store={store} view={view} id={outgoing.replyTo} /> : null}
      <p class="text">{outgoing.text}</p>
      {refused ? (
        <div class="refusal" role="alert">
          <p>{refusalText(refused.code, refused.retryAfter)}</p>
          <button type="button" class="link" onClick={() => store.retry(outgoing.key)}>{T.retry}</button>{" "}
          <button type="button" class="link" onClick={() => store.dismiss(outgoing.key)}>{T.dismiss}</button>
        </div>
      ) : (
        <span class="meta">{T.sending}</span>
      )}
    </li>
  );
}

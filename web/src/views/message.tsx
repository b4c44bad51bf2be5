// One message of a chat, as stored, or as written and not yet acknowledged.

import type { Message, Outgoing, Store } from "../store";
import { refusalText, T } from "../texts";

function time(at: number): string {
  return new Date(at * 1000).toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit" });
}

export function MessageRow({ message, mine }: { message: Message; mine: boolean }) {
  return (
    <li class={mine ? "message mine" : "message"} data-id={message.id} data-state="sent">
      {message.deleted ? (
        <p class="text deleted">{T.deleted}</p>
      ) : (
        <p class="text">{message.text}</p>
      )}
      <span class="meta">
        {message.edited && !message.deleted ? `${T.edited} · ` : ""}
        {time(message.at)}
      </span>
    </li>
  );
}

export function OutgoingRow({ store, outgoing }: { store: Store; outgoing: Outgoing }) {
  const refused = outgoing.refusal;
  return (
    <li class={refused ? "message mine refused" : "message mine pending"} data-state={outgoing.state}>
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


// The list of the person's chats, the most recently active first, with their
// kind (класс, родители, учителя, личный, группа) as a small label (words, not
// emoji: school computers often lack an emoji font) and unread counts.

import type { ChatView, Store } from "../store";
import { T } from "../texts";

export function ChatList({ store }: { store: Store }) {
  if (!store.chatsLoaded) return <p class="placeholder">{T.connecting}</p>;
  const chats = store.sortedChats();
  if (chats.length === 0) return <p class="placeholder">{T.noChats}</p>;
  return (
    <ul class="chat-list">
      {chats.map((view) => (
        <ChatItem key={view.summary.id} store={store} view={view} />
      ))}
    </ul>
  );
}

function ChatItem({ store, view }: { store: Store; view: ChatView }) {
  const { summary } = view;
  const last = summary.last_message;
  const text = last ? (typeof last.data.text === "string" ? last.data.text : T.deleted) : T.noMessagesYet;
  const current = store.openChat === summary.id;
  return (
    <li>
      <button
        type="button"
        class={current ? "chat-item current" : "chat-item"}
        aria-current={current ? "true" : undefined}
        data-chat={summary.id}
        onClick={() => store.open(summary.id)}
      >
        <span class="title">
          <span class={`kind kind-${summary.kind}`}>{kindLabel(summary.kind)}</span>
          <span class="visually-hidden">: </span>
          {summary.title}
        </span>
        {summary.kind === "direct" && online(store, summary.id) ? (
          <span class="presence-dot" role="img" aria-label={T.online} />
        ) : null}
        {summary.unread > 0 ? (
          <span class="unread" aria-label={T.unread(summary.unread)}>{summary.unread}</span>
        ) : null}
        <span class="last">{text}</span>
      </button>
    </li>
  );
}


/** A chat kind in the school's words. */
export function kindLabel(kind: string): string {
  switch (kind) {
    case "class":
      return T.kindClass;
    case "class_parents":
      return T.kindParents;
    case "staff":
      return T.kindStaff;
    case "direct":
      return T.kindDirect;
    case "group":
      return T.kindGroup;
    default:
      return "";
  }
}

/** Whether the other member of a direct chat is online, as far as the page was told. */
function online(store: Store, chat: string): boolean {
  const partner = store.partner(chat);
  return partner !== null && store.presenceOf(partner)?.online === true;
}

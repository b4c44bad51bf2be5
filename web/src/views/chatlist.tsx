// The list of the person's chats, the most recently active first, with unread counts.

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
        <span class="title">{summary.title}</span>
        {summary.unread > 0 ? (
          <span class="unread" aria-label={T.unread(summary.unread)}>{summary.unread}</span>
        ) : null}
        <span class="last">{text}</span>
      </button>
    </li>
  );
}


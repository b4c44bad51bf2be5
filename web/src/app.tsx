// The view: the chat list and the open chat, rendered from the store.
// On a wide screen both side by side; on a phone one at a time.

import { useEffect, useLayoutEffect, useReducer, useRef, useState } from "preact/hooks";
import type { Store, ChatView, Message, Outgoing } from "./store";
import { refusalText, T } from "./texts";

export function App({ store }: { store: Store }) {
  const [, render] = useReducer((n: number, _: null) => n + 1, 0);
  useEffect(() => store.subscribe(() => render(null)), [store]);
  const open = store.openChat === null ? undefined : store.chats.get(store.openChat);
  return (
    <div class={open ? "app chat-open" : "app"}>
      <ConnectionBanner store={store} />
      <aside class="list-pane" aria-label={T.chats}>
        <header class="bar">
          <h1>{T.chats}</h1>
          <SignOut name={store.me?.person.full_name} />
        </header>
        <ChatList store={store} />
      </aside>
      <main class="chat-pane">
        {open ? <ChatPane key={open.summary.id} store={store} view={open} /> : <p class="placeholder">{T.chooseChat}</p>}
      </main>
    </div>
  );
}

function ConnectionBanner({ store }: { store: Store }) {
  switch (store.connection) {
    case "online":
      return null;
    case "connecting":
      return <div class="banner" role="status">{T.connecting}</div>;
    case "reconnecting":
      return <div class="banner warn" role="status">{T.reconnecting}</div>;
    case "signed_out":
      return (
        <div class="banner error" role="alert">
          {T.signedOut} <a class="button" href="/auth/login?return_to=/">{T.signIn}</a>
        </div>
      );
    case "replaced":
      return (
        <div class="banner warn" role="alert">
          {T.replaced}{" "}
          <button type="button" class="button" onClick={() => location.reload()}>{T.reconnectHere}</button>
        </div>
      );
  }
}

function SignOut({ name }: { name: string | undefined }) {
  return (
    <form method="post" action="/auth/logout" class="sign-out">
      {name ? <span class="who" title={`${T.signedInAs} ${name}`}>{name}</span> : null}
      <button type="submit" class="link">{T.signOut}</button>
    </form>
  );
}

function ChatList({ store }: { store: Store }) {
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

function ChatPane({ store, view }: { store: Store; view: ChatView }) {
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const keepFrom = useRef<number | null>(null); // scrollHeight before older messages came in
  const messages = [...view.messages.values()].sort((a, b) => a.id - b.id);
  const outgoing = store.unconfirmed(view.summary.id);
  const newest = messages.length ? messages[messages.length - 1]!.id : 0;

  // Near the top with older history left: page it in, keeping the reader's place.
  const olderIfNeeded = () => {
    const el = scroller.current;
    if (el === null || el.scrollTop >= 80 || !view.more || view.loadingOlder || !view.loaded) return;
    keepFrom.current = el.scrollHeight;
    void store.loadOlder(view.summary.id).then((loaded) => {
      if (!loaded) keepFrom.current = null;
    });
  };

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el === null) return;
    if (keepFrom.current !== null && !view.loadingOlder) {
      el.scrollTop += el.scrollHeight - keepFrom.current; // older page above: stay where we were
      keepFrom.current = null;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
    // A page too short to scroll never gets a scroll event: fill it.
    if (el.scrollHeight <= el.clientHeight) olderIfNeeded();
  });

  const onScroll = () => {
    const el = scroller.current;
    if (el === null) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    olderIfNeeded();
  };

  return (
    <section class="chat" aria-label={view.summary.title}>
      <header class="bar">
        <button type="button" class="back" onClick={() => store.open(null)} aria-label={T.back}>
          ←
        </button>
        <h2>{view.summary.title}</h2>
        <span class="muted">{T.members(view.summary.members)}</span>
      </header>
      <div class="messages" ref={scroller} onScroll={onScroll} role="log" aria-live="polite" data-newest={newest}>
        {view.loadingOlder ? <p class="placeholder">{T.loadingOlder}</p> : null}
        {view.loaded && messages.length === 0 && outgoing.length === 0 ? (
          <p class="placeholder">{T.noMessages}</p>
        ) : null}
        <ol>
          {messages.map((m) => (
            <MessageRow key={m.id} message={m} mine={m.author === store.me?.person.oid} />
          ))}
          {outgoing.map((o) => (
            <OutgoingRow key={o.key} store={store} outgoing={o} />
          ))}
        </ol>
      </div>
      <Composer store={store} chat={view.summary.id} />
    </section>
  );
}

function time(at: number): string {
  return new Date(at * 1000).toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit" });
}

function MessageRow({ message, mine }: { message: Message; mine: boolean }) {
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

function OutgoingRow({ store, outgoing }: { store: Store; outgoing: Outgoing }) {
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

function Composer({ store, chat }: { store: Store; chat: string }) {
  const [text, setText] = useState("");
  const submit = () => {
    if (text.trim() === "") return;
    store.sendMessage(chat, text);
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

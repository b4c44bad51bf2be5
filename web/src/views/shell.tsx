// The page's frame: the connection banner, who is signed in, the chat list and
// the open chat. On a wide screen both panes side by side; on a phone one at a time.

import { useEffect, useReducer } from "preact/hooks";
import { forgetDrafts } from "../drafts";
import { signInHere } from "../place";
import type { Store } from "../store";
import { T } from "../texts";
import { ChatList } from "./chatlist";
import { ChatPane } from "./chatpane";

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
          <SignOut name={store.me?.person.full_name} person={store.me?.person.oid} />
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
          {T.signedOut} <a class="button" href={signInHere()}>{T.signIn}</a>
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

function SignOut({ name, person }: { name: string | undefined; person: number | undefined }) {
  // Signing out on a shared PC leaves none of one's drafts for the next person.
  const forget = () => person !== undefined && forgetDrafts(person);
  return (
    <form method="post" action="/auth/logout" class="sign-out" onSubmit={forget}>
      {name ? <span class="who" title={`${T.signedInAs} ${name}`}>{name}</span> : null}
      <button type="submit" class="link">{T.signOut}</button>
    </form>
  );
}


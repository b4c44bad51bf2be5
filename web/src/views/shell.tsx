// The page's frame: the connection banner, who is signed in, the chat list with
// its navigation («Написать», «Создать группу», «Жалобы», «Мои жалобы», «Дети»),
// the open chat, and the one panel open over them. On a wide screen both panes
// side by side; on a phone one at a time.

import { useEffect, useReducer, useState } from "preact/hooks";
import { forgetDrafts } from "../drafts";
import { roomInUrl, signInHere } from "../place";
import type { Store } from "../store";
import { RT, T } from "../texts";
import { CallPage } from "./call";
import { RoomsDialog } from "./rooms";
import { isStaff, panelsOf, type Panels } from "../panels";
import { ChatList } from "./chatlist";
import { ChatPane } from "./chatpane";
import { GroupDialog } from "./groups";
import { MembersDialog } from "./members";
import { ChildrenDialog } from "./oversight";
import { WriteDialog } from "./people";
import { InboxDialog, MineDialog } from "./reports";

export function App({ store }: { store: Store }) {
  const [, render] = useReducer((n: number, _: null) => n + 1, 0);
  useEffect(() => store.subscribe(() => render(null)), [store]);
  const panels = panelsOf(store);
  useEffect(() => panels.subscribe(() => render(null)), [panels]);
  const [room, setRoom] = useState(roomInUrl());
  useEffect(() => {
    const follow = () => setRoom(roomInUrl());
    addEventListener("popstate", follow);
    return () => removeEventListener("popstate", follow);
  }, []);
  if (room !== null && store.me !== null) {
    return (
      <>
        <ConnectionBanner store={store} />
        <CallPage key={room} store={store} roomId={room} />
      </>
    );
  }
  const open = store.openChat === null ? undefined : store.chats.get(store.openChat);
  // The open panel is a sibling of the grid, not one of its items, so the grid never places it.
  return (
    <>
      <div class={open ? "app chat-open" : "app"}>
        <ConnectionBanner store={store} />
        <aside class="list-pane" aria-label={T.chats}>
          <header class="bar">
            <h1>{T.chats}</h1>
            <SignOut name={store.me?.person.full_name} person={store.me?.person.oid} />
          </header>
          <Navigation panels={panels} />
          <ChatList store={store} />
        </aside>
        <main class="chat-pane">
          {open ? <ChatPane key={open.summary.id} store={store} view={open} /> : <p class="placeholder">{T.chooseChat}</p>}
        </main>
      </div>
      <OpenPanel panels={panels} />
    </>
  );
}

function Navigation({ panels }: { panels: Panels }) {
  const store = panels.store;
  if (store.me === null) return null;
  const open = panels.inbox.filter((r) => r.status === "open").length;
  return (
    <nav class="panels-nav" aria-label={T.navigation}>
      <button type="button" class="button" onClick={() => panels.open({ kind: "write" })}>{T.write}</button>
      <button type="button" class="link" onClick={() => panels.open({ kind: "rooms" })}>{RT.rooms}</button>
      {isStaff(store) ? (
        <button type="button" class="link" onClick={() => panels.open({ kind: "group" })}>{T.createGroup}</button>
      ) : null}
      {panels.showInbox ? (
        <button type="button" class="link" onClick={() => panels.open({ kind: "reports" })}>
          {T.reports}
          {open > 0 ? <span class="unread" aria-label={T.unread(open)}>{open}</span> : null}
        </button>
      ) : null}
      <button type="button" class="link" onClick={() => panels.open({ kind: "mine" })}>{T.myReports}</button>
      {store.me.children.length > 0 ? (
        <button type="button" class="link" onClick={() => panels.open({ kind: "children" })}>{T.children}</button>
      ) : null}
    </nav>
  );
}

function OpenPanel({ panels }: { panels: Panels }) {
  const panel = panels.current;
  switch (panel?.kind) {
    case undefined:
      return null;
    case "write":
      return <WriteDialog panels={panels} />;
    case "group":
      return <GroupDialog panels={panels} />;
    case "members":
      return <MembersDialog key={panel.chat} panels={panels} chat={panel.chat} />;
    case "reports":
      return <InboxDialog panels={panels} />;
    case "mine":
      return <MineDialog panels={panels} />;
    case "children":
      return <ChildrenDialog panels={panels} />;
    case "rooms":
      return <RoomsDialog key={panel.classId ?? ""} panels={panels} classId={panel.classId} />;
  }
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


// One open chat: its history (paged back as the reader scrolls up), the
// messages still being sent, and the composer.

import { useLayoutEffect, useRef } from "preact/hooks";
import type { ChatView, Store } from "../store";
import { T } from "../texts";
import { Composer } from "./composer";
import { MessageRow, OutgoingRow } from "./message";
import { panelsOf } from "../panels";

export function ChatPane({ store, view }: { store: Store; view: ChatView }) {
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
        <button type="button" class="link" onClick={() => panelsOf(store).open({ kind: "members", chat: view.summary.id })}>{T.membersButton}</button>
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


// «Дети»: a parent picks a child and sees the child's chats and with whom,
// never their messages (GET /api/v1/children/{oid}/chats, by the session cookie).

import { useEffect, useState } from "preact/hooks";
import type { Panels } from "../panels";
import { PANEL_REFUSALS, refusalText, T } from "../texts";
import { Dialog } from "./dialog";
import { kindLabel } from "./chatlist";

interface ChildChat {
  id: string;
  kind: string;
  title: string;
  members: { oid: number; full_name: string }[];
}

type Loaded = { chats: ChildChat[] } | { refusal: string } | null;

async function childChats(oid: number): Promise<Loaded> {
  try {
    const response = await fetch(`/api/v1/children/${oid}/chats`, { credentials: "same-origin" });
    const body = (await response.json()) as { chats?: ChildChat[]; error?: { code?: string } };
    if (response.ok && Array.isArray(body.chats)) return { chats: body.chats };
    const code = body.error?.code ?? "server.internal";
    if (code === "policy.forbidden") return { refusal: T.oversightOff };
    return { refusal: PANEL_REFUSALS[code] ?? refusalText(code) };
  } catch {
    return { refusal: T.reconnecting };
  }
}

export function ChildrenDialog({ panels }: { panels: Panels }) {
  const children = panels.store.me?.children ?? [];
  const [child, setChild] = useState<number | null>(children.length === 1 ? children[0]!.person.oid : null);
  const [loaded, setLoaded] = useState<Loaded>(null);
  useEffect(() => {
    setLoaded(null);
    if (child === null) return;
    let current = true;
    void childChats(child).then((l) => current && setLoaded(l));
    return () => {
      current = false;
    };
  }, [child]);
  const name = children.find((c) => c.person.oid === child)?.person.full_name ?? "";
  return (
    <Dialog name="children" title={T.children} onClose={() => panels.open(null)}>
      <ul class="children" aria-label={T.children}>
        {children.map((c) => (
          <li key={c.person.oid}>
            <button
              type="button"
              class={c.person.oid === child ? "person current" : "person"}
              aria-pressed={c.person.oid === child}
              onClick={() => setChild(c.person.oid)}
            >
              {c.person.full_name}
            </button>
          </li>
        ))}
      </ul>
      {child !== null ? (
        <section class="child-chats" aria-label={T.childChats(name)}>
          <h3>{T.childChats(name)}</h3>
          {loaded === null ? <p class="muted">{T.loading}</p> : null}
          {loaded !== null && "refusal" in loaded ? <p role="alert" class="refusal">{loaded.refusal}</p> : null}
          {loaded !== null && "chats" in loaded ? (
            <>
              <p class="muted">{T.childChatsNote}</p>
              {loaded.chats.length === 0 ? <p class="muted">{T.childNoChats}</p> : null}
              <ul class="child-chat-list">
                {loaded.chats.map((c) => (
                  <li key={c.id} data-chat={c.id}>
                    <span class="kind">{kindLabel(c.kind)}</span> <strong>{c.title}</strong>
                    <p class="muted">{c.members.map((m) => m.full_name).join(", ")}</p>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </section>
      ) : null}
    </Dialog>
  );
}

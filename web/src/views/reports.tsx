// «Жалобы»: reports of the chats I moderate, open first, each resolved with an
// outcome and an optional note; «Мои жалобы»: the reports I made and what came of them.

import { useEffect, useId, useState } from "preact/hooks";
import { failureText, type Panels } from "../panels";
import type { ChatId, Report } from "../protocol";
import { T } from "../texts";
import { Dialog } from "./dialog";

const OUTCOMES: ["dismissed" | "warned" | "removed", string][] = [
  ["dismissed", T.outcomeDismissed],
  ["warned", T.outcomeWarned],
  ["removed", T.outcomeRemoved],
];

function result(report: Report): string {
  switch (report.outcome) {
    case "dismissed":
      return T.resultDismissed;
    case "warned":
      return T.resultWarned;
    case "removed":
      return T.resultRemoved;
    default:
      return T.awaiting;
  }
}

function chatTitle(panels: Panels, chat: ChatId): string {
  return panels.store.chats.get(chat)?.summary.title ?? T.chatNotFoundHere;
}

/** Names of the members of these chats (for «who reported»), from `chat.details`. */
function useNames(panels: Panels, chats: ChatId[]): Map<number, string> {
  const [names, setNames] = useState(new Map<number, string>());
  const wanted = [...new Set(chats)].sort().join("\n");
  useEffect(() => {
    let current = true;
    const ids = wanted === "" ? [] : wanted.split("\n");
    void Promise.all(
      ids.map((chat) => panels.store.socket.request("chat.details", { chat }).catch(() => null)),
    ).then((all) => {
      if (!current) return;
      const found = new Map<number, string>();
      for (const details of all) for (const m of details?.members ?? []) found.set(m.oid, m.full_name);
      setNames(found);
    });
    return () => {
      current = false;
    };
  }, [wanted]);
  return names;
}

export function InboxDialog({ panels }: { panels: Panels }) {
  const open = panels.inbox.filter((r) => r.status === "open");
  const resolved = panels.inbox.filter((r) => r.status === "resolved");
  const names = useNames(panels, panels.inbox.map((r) => r.chat));
  useEffect(() => void panels.loadReports(), []); // what the live events could not bring (made elsewhere, missed)
  return (
    <Dialog name="reports" title={T.reports} onClose={() => panels.open(null)}>
      {panels.inbox.length === 0 ? <p class="muted">{T.noReports}</p> : null}
      {open.length > 0 ? (
        <section aria-label={T.reportOpen}>
          <h3>{T.reportOpen}</h3>
          <ul class="reports">
            {open.map((r) => (
              <InboxItem key={r.id} panels={panels} report={r} names={names} />
            ))}
          </ul>
        </section>
      ) : null}
      {resolved.length > 0 ? (
        <section aria-label={T.reportResolved}>
          <h3>{T.reportResolved}</h3>
          <ul class="reports">
            {resolved.map((r) => (
              <InboxItem key={r.id} panels={panels} report={r} names={names} />
            ))}
          </ul>
        </section>
      ) : null}
    </Dialog>
  );
}

function InboxItem({ panels, report, names }: { panels: Panels; report: Report; names: Map<number, string> }) {
  const noteId = useId();
  const [note, setNote] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const decide = (outcome: "dismissed" | "warned" | "removed") => {
    setBusy(true);
    setError(null);
    panels.resolve(report.id, outcome, note).then(
      () => setBusy(false),
      (e: unknown) => {
        setBusy(false);
        setError(failureText(e));
      },
    );
  };
  return (
    <li class="report" data-report={report.id} data-status={report.status}>
      <p class="chat-name">{chatTitle(panels, report.chat)}</p>
      <blockquote aria-label={T.reportText}>{report.text ?? ""}</blockquote>
      <p>
        {T.reason}: {report.reason}
      </p>
      <p class="muted">{T.reportedBy(names.get(report.reporter) ?? String(report.reporter))}</p>
      {report.status === "open" ? (
        <div class="stack">
          <label for={noteId}>{T.noteLabel}</label>
          <input id={noteId} maxLength={1000} value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
          <div class="actions">
            {OUTCOMES.map(([outcome, label]) => (
              <button key={outcome} type="button" class="button" disabled={busy} onClick={() => decide(outcome)}>
                {label}
              </button>
            ))}
          </div>
          {error ? <p role="alert" class="refusal">{error}</p> : null}
        </div>
      ) : (
        <p class="outcome">
          {result(report)}
          {report.note ? ` — ${report.note}` : ""}
        </p>
      )}
    </li>
  );
}

export function MineDialog({ panels }: { panels: Panels }) {
  // A report made from a message's menu comes back to that view only: read the list again.
  useEffect(() => void panels.loadReports(), []);
  return (
    <Dialog name="mine" title={T.myReports} onClose={() => panels.open(null)}>
      {panels.mine.length === 0 ? <p class="muted">{T.noMyReports}</p> : null}
      <ul class="reports">
        {panels.mine.map((r) => (
          <li key={r.id} class="report" data-report={r.id} data-status={r.status}>
            <p class="chat-name">{chatTitle(panels, r.chat)}</p>
            <p>
              {T.reason}: {r.reason}
            </p>
            <p class="outcome">
              {result(r)}
              {r.note ? ` — ${r.note}` : ""}
            </p>
          </li>
        ))}
      </ul>
    </Dialog>
  );
}

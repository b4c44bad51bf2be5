// «Создать группу»: a teacher's or an admin's group in one of her schools,
// its members picked through the people search; the new group opens.

import { useId, useMemo, useState } from "preact/hooks";
import { failureText, type Panels } from "../panels";
import type { PersonFound } from "../protocol";
import { T } from "../texts";
import { Dialog } from "./dialog";
import { PeopleSearch } from "./people";

export function GroupDialog({ panels }: { panels: Panels }) {
  const store = panels.store;
  const schools = useMemo(() => {
    const staff = new Map<string, string>();
    for (const r of store.me?.roles ?? []) {
      if (r.role === "teacher" || r.role === "admin") staff.set(r.school_id, r.school_name);
    }
    return [...staff];
  }, [store.me]);
  const titleId = useId();
  const schoolId = useId();
  const [title, setTitle] = useState("");
  const [school, setSchool] = useState(schools[0]?.[0] ?? "");
  const [chosen, setChosen] = useState<PersonFound[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // One key for this dialog's group: a retry after a lost reply makes no second group.
  const key = useMemo(() => crypto.randomUUID(), []);

  const submit = () => {
    if (busy) return;
    setBusy(true);
    setError(null);
    const members = chosen.map((p) => p.oid);
    store.socket.request("group.create", { school, title: title.trim(), members, key }).then(
      (reply) => {
        panels.open(null);
        store.openSummary(reply.chat);
      },
      (e: unknown) => {
        setBusy(false);
        setError(failureText(e));
      },
    );
  };

  return (
    <Dialog name="group" title={T.createGroup} onClose={() => panels.open(null)}>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <label for={titleId}>{T.groupTitle}</label>
        <input id={titleId} required maxLength={200} value={title} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
        {schools.length > 1 ? (
          <>
            <label for={schoolId}>{T.groupSchool}</label>
            <select id={schoolId} value={school} onChange={(e) => setSchool((e.target as HTMLSelectElement).value)}>
              {schools.map(([id, name]) => (
                <option key={id} value={id}>{name}</option>
              ))}
            </select>
          </>
        ) : null}
        <fieldset>
          <legend>{T.groupMembers}</legend>
          <ul class="chosen">
            {chosen.map((p) => (
              <li key={p.oid}>
                {p.full_name}{" "}
                <button
                  type="button"
                  class="link"
                  aria-label={T.removeChosen(p.full_name)}
                  onClick={() => setChosen(chosen.filter((c) => c.oid !== p.oid))}
                >
                  ✕
                </button>
              </li>
            ))}
          </ul>
          <PeopleSearch
            panels={panels}
            skip={chosen.map((p) => p.oid)}
            pickLabel={T.addMember}
            onPick={(p) => setChosen([...chosen, p])}
          />
        </fieldset>
        {error ? <p role="alert" class="refusal">{error}</p> : null}
        <button type="submit" class="button" disabled={busy || title.trim() === ""}>{T.create}</button>
      </form>
    </Dialog>
  );
}

// People search (`people.find`: only those the school's rules let me write to)
// and «Написать»: pick a person, their direct chat opens.

import { useEffect, useId, useRef, useState } from "preact/hooks";
import { failureText, type Panels } from "../panels";
import type { PersonFound } from "../protocol";
import { T } from "../texts";
import { Dialog } from "./dialog";

const DEBOUNCE = 300; // ms after the last key

export function roleNames(roles: { role: string }[]): string {
  const names: Record<string, string> = {
    student: T.roleStudent,
    parent: T.roleParent,
    teacher: T.roleTeacher,
    admin: T.roleAdmin,
  };
  return [...new Set(roles.map((r) => names[r.role] ?? r.role))].join(", ");
}

/** A search box and its results; each result a button that picks the person. */
export function PeopleSearch({
  panels,
  onPick,
  pickLabel,
  skip = [],
}: {
  panels: Panels;
  onPick: (person: PersonFound) => void;
  pickLabel?: (name: string) => string;
  skip?: number[];
}) {
  const input = useId();
  const field = useRef<HTMLInputElement>(null);
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<PersonFound[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const q = query.trim();
    if (q === "") {
      setFound(null);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      panels.store.socket.request("people.find", { query: q }).then(
        (reply) => {
          if (!current) return;
          setFound(reply.people);
          setError(null);
        },
        (e: unknown) => current && setError(failureText(e)),
      );
    }, DEBOUNCE);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query]);
  const shown = (found ?? []).filter((p) => !skip.includes(p.oid));
  return (
    <div class="people-search">
      <label for={input}>{T.searchLabel}</label>
      <input
        id={input}
        ref={field}
        type="text" // not "search": its Escape clears the field instead of closing the dialog
        enterKeyHint="search"
        autoComplete="off"
        placeholder={T.searchPlaceholder}
        value={query}
        onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
        onKeyDown={(e) => e.key === "Enter" && e.preventDefault()} // picking is a button, not the form's submit
      />
      {error ? <p role="alert" class="refusal">{error}</p> : null}
      <div aria-live="polite">
        {found !== null && found.length === 0 ? <p class="muted">{T.nobodyFound}</p> : null}
      </div>
      {shown.length > 0 ? (
        <ul class="people">
          {shown.map((p) => (
            <li key={p.oid}>
              <button
                type="button"
                class="person"
                data-oid={p.oid}
                aria-label={pickLabel ? pickLabel(p.full_name) : undefined}
                onClick={() => {
                  onPick(p);
                  setQuery(""); // ready for the next name; focus stays in the search
                  field.current?.focus();
                }}
              >
                <span class="name">{p.full_name}</span> <span class="muted">{roleNames(p.roles)}</span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export function WriteDialog({ panels }: { panels: Panels }) {
  const [error, setError] = useState<string | null>(null);
  const pick = (person: PersonFound) => {
    setError(null);
    panels.store.socket.request("direct.open", { person: person.oid }).then(
      (reply) => {
        panels.open(null);
        panels.store.openSummary(reply.chat);
      },
      (e: unknown) => setError(failureText(e)),
    );
  };
  return (
    <Dialog name="write" title={T.writeTitle} onClose={() => panels.open(null)}>
      <PeopleSearch panels={panels} onPick={pick} />
      {error ? <p role="alert" class="refusal">{error}</p> : null}
    </Dialog>
  );
}

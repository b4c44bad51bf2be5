// «Участники»: a chat's members from `chat.details`, with their roles and who
// moderates; a group's owner adds and removes members, a moderator mutes,
// unmutes and removes, and turns announcements-only on and off.

import { useEffect, useId, useState } from "preact/hooks";
import { failureText, type Panels } from "../panels";
import type { ChatId, Replies } from "../protocol";
import { T } from "../texts";
import { Dialog } from "./dialog";
import { PeopleSearch, roleNames } from "./people";

type Details = Replies["chat.details"];
type Member = Details["members"][number];

const MUTES: [number, string][] = [
  [15 * 60, T.mute15m],
  [60 * 60, T.mute1h],
  [24 * 60 * 60, T.mute1d],
];

export function MembersDialog({ panels, chat }: { panels: Panels; chat: ChatId }) {
  const store = panels.store;
  const view = store.chats.get(chat);
  const [details, setDetails] = useState<Details | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const announcementsId = useId();

  const load = () =>
    store.socket.request("chat.details", { chat }).then(setDetails, (e: unknown) => setError(failureText(e)));
  useEffect(() => void load(), [chat]);

  /** One change, then the list again (it says what the server now holds). */
  const act = (change: () => Promise<unknown>) => {
    setError(null);
    change().then(
      () => load(),
      (e: unknown) => {
        setError(failureText(e));
        void load();
      },
    );
  };

  const me = store.me?.person.oid;
  const group = view?.summary.kind === "group";
  const owner = group && details !== null && details.owner === me;
  return (
    <Dialog name="members" title={view ? `${T.chatInfo}: ${view.summary.title}` : T.chatInfo} onClose={() => panels.open(null)}>
      {error ? <p role="alert" class="refusal">{error}</p> : null}
      {details === null ? (
        <p class="muted">{T.loading}</p>
      ) : (
        <>
          {details.moderator ? (
            <p class="toggle">
              <input
                id={announcementsId}
                type="checkbox"
                checked={details.announcements}
                onChange={(e) => {
                  const on = (e.target as HTMLInputElement).checked;
                  setDetails({ ...details, announcements: on }); // as asked; a refusal reloads what holds
                  act(() => store.socket.request("moderation.announcements", { chat, on }));
                }}
              />{" "}
              <label for={announcementsId}>{T.announcementsToggle}</label>
            </p>
          ) : null}
          <ul class="members">
            {details.members.map((m) => (
              <MemberRow
                key={m.oid}
                member={m}
                me={m.oid === me}
                isOwner={details.owner === m.oid}
                moderate={details.moderator && m.oid !== me && !m.moderator}
                removable={group && m.oid !== details.owner && (owner || details.moderator)}
                onMute={(seconds) => act(() => store.socket.request("moderation.mute", { chat, person: m.oid, seconds }))}
                onUnmute={() => act(() => store.socket.request("moderation.unmute", { chat, person: m.oid }))}
                onRemove={() =>
                  act(() =>
                    owner
                      ? store.socket.request("group.members", { chat, remove: [m.oid] })
                      : store.socket.request("moderation.remove", { chat, person: m.oid }),
                  )
                }
              />
            ))}
          </ul>
          {owner ? (
            adding ? (
              <section aria-label={T.addToGroup}>
                <h3>{T.addToGroup}</h3>
                <PeopleSearch
                  panels={panels}
                  skip={details.members.map((m) => m.oid)}
                  pickLabel={T.addMember}
                  onPick={(p) => act(() => store.socket.request("group.members", { chat, add: [p.oid] }))}
                />
              </section>
            ) : (
              <button type="button" class="button" onClick={() => setAdding(true)}>{T.addToGroup}</button>
            )
          ) : null}
        </>
      )}
    </Dialog>
  );
}

function MemberRow({
  member,
  me,
  isOwner,
  moderate,
  removable,
  onMute,
  onUnmute,
  onRemove,
}: {
  member: Member;
  me: boolean;
  isOwner: boolean;
  moderate: boolean;
  removable: boolean;
  onMute: (seconds: number) => void;
  onUnmute: () => void;
  onRemove: () => void;
}) {
  const muted = member.muted_until !== null && member.muted_until * 1000 > Date.now();
  const tags = [roleNames(member.roles.map((role) => ({ role })))];
  if (member.moderator) tags.push(T.moderator);
  if (isOwner) tags.push(T.owner);
  if (muted && member.muted_until !== null) tags.push(T.memberMutedUntil(until(member.muted_until)));
  return (
    <li class="member" data-oid={member.oid} aria-label={member.full_name}>
      <span class="name">{me ? `${member.full_name} (${T.you})` : member.full_name}</span>{" "}
      <span class="muted">{tags.filter((t) => t !== "").join(", ")}</span>
      {moderate || removable ? (
        <div class="actions">
          {moderate && !muted ? (
            <span role="group" aria-label={T.muteFor(member.full_name)}>
              {T.mute}:{" "}
              {MUTES.map(([seconds, label]) => (
                <button key={seconds} type="button" class="link" onClick={() => onMute(seconds)}>{label}</button>
              ))}
            </span>
          ) : null}
          {moderate && muted ? (
            <button type="button" class="link" onClick={onUnmute}>{T.unmute}</button>
          ) : null}
          {removable ? (
            <button type="button" class="link" onClick={onRemove}>{T.removeFromGroup}</button>
          ) : null}
        </div>
      ) : null}
    </li>
  );
}

function until(at: number): string {
  return new Date(at * 1000).toLocaleString("ru-RU", { day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });
}

// Reactions under a message: a chip per emoji with its count, pressed when one
// of them is mine (a click takes it back or adds it), and the picker.
//
// The picker is a short curated list rather than a full emoji picker package:
// emoji-picker-element (1.29) styles its shadow DOM with a <style> element and
// inline style="" attributes, both refused by the page's CSP (style-src 'self'),
// and a school chat needs few. Every entry is fully qualified (❤️ carries its
// variation selector), as the server's check of `react` asks.

import type { ChatView, Store } from "../store";
import { T } from "../texts";
import { Popup } from "./popup";

export const EMOJI = ["👍", "❤️", "😂", "😮", "😢", "🙏", "👏", "🔥", "🎉", "🤔", "👀", "✅", "💯", "😊", "🤝", "⭐", "📚", "👎"];

export function Reactions({ store, view, id }: { store: Store; view: ChatView; id: number }) {
  const me = store.me?.person.oid;
  const chips = store.reactionsOf(view, id);
  if (chips.length === 0) return null;
  return (
    <ul class="reactions" aria-label={T.reactions}>
      {chips.map(([emoji, people]) => {
        const mine = me !== undefined && people.includes(me);
        const names = people.map((p) => store.nameOf(view.summary.id, p) ?? T.someone).join(", ");
        return (
          <li key={emoji}>
            <button
              type="button"
              class={mine ? "chip mine" : "chip"}
              aria-pressed={mine ? "true" : "false"}
              aria-label={T.reactionLabel(emoji, people.length)}
              title={names}
              data-emoji={emoji}
              onClick={() => void store.react(view.summary.id, id, emoji, !mine)}
            >
              {emoji} <span class="count">{people.length}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

export function EmojiPicker({ onPick, onClose }: { onPick: (emoji: string) => void; onClose: () => void }) {
  return (
    <Popup label={T.chooseReaction} role="dialog" onClose={onClose} className="picker">
      {EMOJI.map((emoji) => (
        <button key={emoji} type="button" class="emoji" aria-label={emoji} onClick={() => onPick(emoji)}>
          {emoji}
        </button>
      ))}
    </Popup>
  );
}

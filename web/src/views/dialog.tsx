// A modal dialog: the browser's <dialog> shown with showModal() (focus kept
// inside, the page behind inert), Escape and «Закрыть» close it, and focus
// goes back to whatever opened it.

import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef } from "preact/hooks";
import { T } from "../texts";

export function Dialog({
  title,
  onClose,
  children,
  name,
}: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  name: string; // a class for styling and tests
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const heading = useId();
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const dialog = ref.current;
    if (dialog !== null && !dialog.open) {
      dialog.showModal();
      // Straight to the work: the first field or control of the body, else «Закрыть».
      dialog.querySelector<HTMLElement>(".panel-body :is(input, select, textarea, button)")?.focus();
    }
    return () => {
      dialog?.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class={`panel ${name}`}
      aria-labelledby={heading}
      onCancel={(e) => {
        e.preventDefault(); // Escape: the view unmounts the dialog
        onClose();
      }}
    >
      <header class="bar">
        <h2 id={heading}>{title}</h2>
        <button type="button" class="link" onClick={onClose}>{T.close}</button>
      </header>
      <div class="panel-body">{children}</div>
    </dialog>
  );
}

// A small menu or dialog that opens from a button: the first control takes the
// focus, Escape or a click outside closes it, and the focus goes back to the button.

import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef } from "preact/hooks";

export function Popup({
  label,
  role,
  onClose,
  children,
  className,
}: {
  label: string;
  role: "menu" | "dialog";
  onClose: () => void;
  children: ComponentChildren;
  className?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  // Before paint, so a key pressed as soon as the menu shows lands in it.
  useLayoutEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    box.current?.querySelector<HTMLElement>("button, textarea, input")?.focus();
    const outside = (e: MouseEvent) => {
      if (box.current !== null && e.target instanceof Node && !box.current.contains(e.target)) onClose();
    };
    document.addEventListener("mousedown", outside);
    return () => {
      document.removeEventListener("mousedown", outside);
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <div
      ref={box}
      class={`popup ${className ?? ""}`}
      role={role}
      aria-label={label}
      aria-modal={role === "dialog" ? "true" : undefined}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.preventDefault();
          e.stopPropagation();
          onClose();
        } else if (role === "menu" && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
          // Arrow keys move between the menu's items, as a screen reader expects of a menu.
          e.preventDefault();
          const items = [...(box.current?.querySelectorAll<HTMLElement>("button") ?? [])];
          const at = items.indexOf(document.activeElement as HTMLElement);
          const next = (at + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
          items[next]?.focus();
        }
      }}
    >
      {children}
    </div>
  );
}

// The outbox kept in IndexedDB: every message written and not yet
// acknowledged, with its idempotency key, so that a reload or a closed and
// reopened tab sends it again, exactly once (the server keeps one message
// per key). Entries are per person: one browser may be used by several.
// Without IndexedDB (a private window of some browsers) the outbox lives in
// memory only.

import type { ChatId, Oid } from "./protocol";

export interface StoredOutgoing {
  key: string;
  person: Oid;
  chat: ChatId;
  text: string;
  replyTo?: number | null; // the message it answers (absent in rows of older pages)
  since: number;
  written: number; // ms since the epoch: the order they go in
}

const NAME = "zvonok";
const VERSION = 1;
const OUTBOX = "outbox";

function done<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("indexeddb"));
  });
}

export class OutboxDb {
  private readonly db: Promise<IDBDatabase | null>;

  constructor() {
    this.db = new Promise((resolve) => {
      try {
        const request = indexedDB.open(NAME, VERSION);
        request.onupgradeneeded = () => {
          const store = request.result.createObjectStore(OUTBOX, { keyPath: "key" });
          store.createIndex("person", "person");
        };
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => resolve(null);
        request.onblocked = () => resolve(null);
      } catch {
        resolve(null);
      }
    });
  }

  /** This person's messages not yet acknowledged, oldest first. */
  async all(person: Oid): Promise<StoredOutgoing[]> {
    const db = await this.db;
    if (db === null) return [];
    try {
      const index = db.transaction(OUTBOX, "readonly").objectStore(OUTBOX).index("person");
      const rows = (await done(index.getAll(person))) as StoredOutgoing[];
      return rows.sort((a, b) => a.written - b.written);
    } catch {
      return [];
    }
  }

  /** Resolves once the entry is on disk: only then is the message shown as written. */
  async put(entry: StoredOutgoing): Promise<void> {
    await this.write((store) => store.put(entry));
  }

  async delete(key: string): Promise<void> {
    await this.write((store) => store.delete(key));
  }

  private async write(change: (store: IDBObjectStore) => IDBRequest): Promise<void> {
    const db = await this.db;
    if (db === null) return;
    try {
      const transaction = db.transaction(OUTBOX, "readwrite");
      change(transaction.objectStore(OUTBOX));
      await new Promise<void>((resolve, reject) => {
        transaction.oncomplete = () => resolve();
        transaction.onerror = () => reject(transaction.error ?? new Error("indexeddb"));
        transaction.onabort = () => reject(transaction.error ?? new Error("indexeddb"));
      });
    } catch {
      // Full or gone: the message still waits in memory for this page's life.
    }
  }
}

// The LeaseObject's own SQLite storage: the lease record (one row) and its event log.
// Synchronous SQL inside the object: each write is atomic and durable before any response
// leaves the object (the output gate), so a caller never sees state that could be lost.

import type { LeaseEvent, LeaseState } from "../contract/lease";
import type { LeaseRecord } from "./record";

const MAX_EVENTS = 500;

export class LeaseStore {
  private tables = false;

  constructor(private readonly sql: SqlStorage) {}

  /**
   * Tables are created on the first write, not on construction: the sweep asks objects of
   * lease ids that never existed whether they claim a machine, and a read must not leave a
   * stored (billed, listed) object behind for each of them.
   */
  private hasTables(): boolean {
    this.tables ||= this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lease'").toArray().length > 0;
    return this.tables;
  }

  private ensureTables(): void {
    if (this.hasTables()) return;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS lease (k INTEGER PRIMARY KEY CHECK (k = 1), v TEXT NOT NULL)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS events (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, type TEXT NOT NULL, state TEXT NOT NULL, message TEXT NOT NULL)`);
    this.tables = true;
  }

  load(): LeaseRecord | undefined {
    if (!this.hasTables()) return undefined;
    const row = this.sql.exec<{ v: string }>("SELECT v FROM lease WHERE k = 1").toArray()[0];
    return row ? (JSON.parse(row.v) as LeaseRecord) : undefined;
  }

  save(rec: LeaseRecord): void {
    this.ensureTables();
    this.sql.exec("INSERT INTO lease (k, v) VALUES (1, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", JSON.stringify(rec));
  }

  /** Forget everything: used only when a lease was refused admission before it existed. */
  clear(): void {
    if (!this.hasTables()) return;
    this.sql.exec("DELETE FROM lease");
    this.sql.exec("DELETE FROM events");
  }

  log(at: number, type: string, state: LeaseState, message: string): void {
    this.ensureTables();
    this.sql.exec("INSERT INTO events (at, type, state, message) VALUES (?, ?, ?, ?)", at, type, state, message);
    this.sql.exec("DELETE FROM events WHERE seq <= (SELECT MAX(seq) FROM events) - ?", MAX_EVENTS);
  }

  events(): LeaseEvent[] {
    if (!this.hasTables()) return [];
    return this.sql
      .exec<{ seq: number; at: number; type: string; state: LeaseState; message: string }>("SELECT * FROM events ORDER BY seq")
      .toArray()
      .map((e) => ({ seq: e.seq, at: new Date(e.at).toISOString(), type: e.type, state: e.state, message: e.message }));
  }
}

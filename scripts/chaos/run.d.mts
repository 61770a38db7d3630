export interface ChaosReport {
  seed: number;
  lifecycles: number;
  leases: number;
  restarts: number;
  seconds: number;
  faults: { injected: number; byKind: Record<string, number> };
  outcomes: Record<string, number>;
  providers: Record<string, { leases: number; released: number; failed: number; notTerminal: number; leftovers: number; createdTwice: number; foreignTouched: number; serverErrors: number; slowestSeconds: number }>;
  serverErrorSamples: string[];
  violations: { provider: string; what: string; lease?: string; detail: string; events?: string[] }[];
}
export function runChaos(options?: { lifecycles?: number; restarts?: number; concurrency?: number; seed?: number; log?: (line: string) => void }): Promise<ChaosReport>;

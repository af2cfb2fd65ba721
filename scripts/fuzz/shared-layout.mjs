/** Layout of the shared `Int32Array` between the engine and its worker (see worker.mjs). */
export const S = Object.freeze({
  /** 0 setting up, 1 running inputs, 2 finished. */
  PHASE: 0,
  /** Index of the input being run (or last run). */
  CURRENT: 1,
  /** Bumped before and after each input: the heartbeat. */
  SEQ: 2,
  INPUTS: 3,
  OK: 4,
  TYPED: 5,
  /** First of `CODE_SLOTS` counters of typed errors, one per code (slots named by messages). */
  CODES: 8,
});

/** Distinct error codes counted per worker (the last slot collects any beyond). */
export const CODE_SLOTS = 32;

/** Int32 slots of the shared state. */
export const STATE_LENGTH = S.CODES + CODE_SLOTS;

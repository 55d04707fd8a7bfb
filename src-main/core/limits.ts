/**
 * Upper bounds on every number a user can give (flags and configuration files). Each is far
 * above what a run on this app's models needs and far below what fills a disk or runs for
 * years: `--max-steps 1e12` was accepted once, with an ETA of 9.7 billion hours and a
 * checkpoint every 6 steps until the disk filled. Errors name the bound.
 */

/** Training steps of one job: the paper scale trains 1,000; 100 times that is days on a GPU. */
export const MAX_TRAIN_STEPS = 100_000;
/** Checkpoints one job may write (max steps / save every): each is a full adapter on disk. */
export const MAX_CHECKPOINTS_PER_JOB = 200;
/** Micro-batches per optimizer step. */
export const MAX_GRAD_ACCUM = 1024;
/** The distillation term's weight against the cross-entropy term. */
export const MAX_KD_WEIGHT = 10;
/** Seeds are 32-bit everywhere they go (numpy, torch). */
export const MAX_SEED = 2 ** 32 - 1;
/** Introspection samples per reflection prompt (the paper uses a handful). */
export const MAX_REFLECTIONS = 100;
/** Self-interaction dialogues of the character recipe (the paper scale makes 2,000). */
export const MAX_INTERACTIONS = 100_000;
/** Turns of one self-interaction dialogue, as the usage line says (2-10). */
export const MIN_INTERACTION_TURNS = 2;
export const MAX_INTERACTION_TURNS = 10;
/** Highest TCP port. */
export const MAX_PORT = 65_535;
/** A stored version number (a persona's, a question set's). */
export const MAX_VERSION = 1_000_000;
/** Elo's K factor: above a few hundred one match decides the ranking. */
export const MAX_ELO_K = 1_000;

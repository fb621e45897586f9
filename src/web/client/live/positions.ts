/**
 * Where a live client is in the live log: the highest position it received (what it resumes from), and the
 * positions it has seen recently, so that an event delivered twice (a replay overlapping what arrived live, a
 * reconnect racing the last frames of the old connection) is handed on once. Pure.
 */
import { comparePositions } from './frames.js';

/** As many positions as the server remembers per connection (src/realtime/README.md: the last 2,000). */
export const REMEMBERED_POSITIONS = 2000;

export interface PositionTracker {
  /** The highest position received (or the one given at the start, or the last reset's). */
  readonly position: string | undefined;
  /** Records a frame's position: false when it was seen already (drop the frame). */
  accept(eventId: string): boolean;
  /**
   * After a `reset`: continue from its position, even a lower one (`unknown_position`: the log the client knew is
   * gone), and forget the positions seen (they may be handed out again).
   */
  resetTo(eventId: string): void;
}

export function createPositionTracker(since?: string, remember = REMEMBERED_POSITIONS): PositionTracker {
  let highest = since;
  let seen = new Set<string>();
  return {
    get position() {
      return highest;
    },
    accept(eventId) {
      if (seen.has(eventId)) return false;
      seen.add(eventId);
      // Sets iterate in insertion order: the oldest goes first.
      if (seen.size > remember) seen.delete(seen.values().next().value as string);
      if (highest === undefined || comparePositions(eventId, highest) > 0) highest = eventId;
      return true;
    },
    resetTo(eventId) {
      highest = eventId;
      seen = new Set();
    },
  };
}

import { randomInt } from 'node:crypto';

/** Cents, inclusive bounds (docs/architecture.md, Money rules): 10–20 $ to take a task, 20–40 $ for closing it. */
export const ASSIGN_FEE_RANGE = { min: 1000, max: 2000 } as const;
export const COMPLETION_REWARD_RANGE = { min: 2000, max: 4000 } as const;

export interface TaskPrices {
  assignFee: number;
  completionReward: number;
}

/** Drawn once per task, uniformly, independent of who gets it. */
export function drawPrices(): TaskPrices {
  return {
    assignFee: randomInt(ASSIGN_FEE_RANGE.min, ASSIGN_FEE_RANGE.max + 1),
    completionReward: randomInt(COMPLETION_REWARD_RANGE.min, COMPLETION_REWARD_RANGE.max + 1),
  };
}

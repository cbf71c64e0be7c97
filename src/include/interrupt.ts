/** Softirq numbers (include/linux/interrupt.h): the kernel runs them, core and sched raise them. */
export const SOFTIRQ = {
  HI: 0,
  TIMER: 1,
  NET_TX: 2,
  NET_RX: 3,
} as const;

/**
 * Bolt's `Logger` interface (`@slack/logger`) on top of our pino logger, so that Bolt's own
 * messages (verification failures, unhandled requests) land in the same JSON log.
 */
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../../worker/logger.js';

/** Wraps a pino logger as a Bolt logger (child `{ component: 'bolt' }`). */
export function boltLogger(parent: Logger): BoltLogger {
  const log = parent.child({ component: 'bolt' });
  let level: LogLevel = LogLevel.INFO;
  const text = (msg: unknown[]): string => msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' ');
  return {
    debug: (...msg: unknown[]) => log.debug(text(msg)),
    info: (...msg: unknown[]) => log.info(text(msg)),
    warn: (...msg: unknown[]) => log.warn(text(msg)),
    error: (...msg: unknown[]) => log.error(text(msg)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Password checks in flight per throttle key (domain/auth/lockout.ts): an attempt is counted
 * before its password is checked, and this says how many of a key's counted attempts are still
 * being checked. A key locked only by such attempts may be lifted by one of them succeeding, so a
 * new attempt waits for them rather than being refused (parallel logins with the right password
 * do not lock each other out). Existing rows have nothing in flight.
 */
export class LoginChecksInFlight1763900000011 implements MigrationInterface {
  name = 'LoginChecksInFlight1763900000011';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE login_throttles ADD COLUMN inflight integer NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE login_throttles DROP COLUMN inflight`);
  }
}

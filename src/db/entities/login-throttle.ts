import { EntitySchema } from 'typeorm';

/** Failed-login counter for one key such as 'id:alice@example.com' or 'ip:1.2.3.4'. */
export class LoginThrottle {
  declare key: string;
  declare failures: number;
  declare lockedUntil: Date | null;
  declare updatedAt: Date;
}

export const LoginThrottleSchema = new EntitySchema<LoginThrottle>({
  name: 'LoginThrottle',
  target: LoginThrottle,
  tableName: 'login_throttles',
  columns: {
    key: { name: 'key', type: 'text', primary: true },
    failures: { name: 'failures', type: 'integer', default: 0 },
    lockedUntil: { name: 'locked_until', type: 'timestamptz', nullable: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true, default: () => 'now()' },
  },
});

import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';

export const STAFF_ROLES = ['admin', 'specialist'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

@Entity('staff')
@Unique('staff_email_key', ['email'])
@Check('staff_email_check', '(email = lower(email))')
@Check('staff_role_check', `(role = ANY (ARRAY['admin'::text, 'specialist'::text]))`)
export class Staff {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('text')
  email: string;

  @Column('text', { name: 'password_hash', select: false })
  passwordHash: string;

  @Column('text')
  role: StaffRole;

  @Column('boolean', { default: false })
  disabled: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

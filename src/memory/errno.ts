// Models: the Linux errno values the kit's kernel operations return (include/uapi/asm-generic/errno-base.h),
// as negative numbers the way kernel functions return them, and their names for step errors.
// Leaves out: errno values no modelled path can return.

export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EINVAL = 22;
export const ENOSPC = 28;
/** include/uapi/asm-generic/errno.h: a lock or wait that can never be granted (a driver breaking the model's locking rules). */
export const EDEADLK = 35;
export const EOVERFLOW = 75;
export const EOPNOTSUPP = 95;

const NAMES: Record<number, string> = {
  [EPERM]: "EPERM",
  [ENOENT]: "ENOENT",
  [EINTR]: "EINTR",
  [ENOMEM]: "ENOMEM",
  [EFAULT]: "EFAULT",
  [EBUSY]: "EBUSY",
  [EINVAL]: "EINVAL",
  [ENOSPC]: "ENOSPC",
  [EDEADLK]: "EDEADLK",
  [EOVERFLOW]: "EOVERFLOW",
  [EOPNOTSUPP]: "EOPNOTSUPP",
};

/** "EFAULT" for -14 or 14. */
export function errnoName(err: number): string {
  return NAMES[Math.abs(err)] ?? `E${Math.abs(err)}`;
}

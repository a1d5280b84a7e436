/**
 * Declarations for the few Odoo 18 web-client APIs the dashboard uses. Only what we call is typed;
 * the real modules are provided by Odoo's asset bundle at runtime (they stay external in the build).
 */

declare module '@web/core/registry' {
  interface Category {
    add(key: string, value: unknown, options?: { force?: boolean; sequence?: number }): Category;
    get(key: string): unknown;
  }
  export const registry: { category(name: string): Category };
}

declare module '@web/core/utils/hooks' {
  /** Typed at the call site: `useService<OrmService>('orm')` (shapes in data/odoo-services.ts). */
  export function useService<T>(name: string): T;
}

declare module '@web/webclient/actions/action_service' {
  type PropType =
    | ObjectConstructor
    | NumberConstructor
    | StringConstructor
    | FunctionConstructor
    | (NumberConstructor | BooleanConstructor)[];
  /** `{ action: Object, actionId: {type: Number, optional: true}, … }` (action_service.js). */
  export const standardActionServiceProps: Record<
    string,
    ObjectConstructor | { type: PropType; optional: boolean }
  >;
}

declare module '@web/core/l10n/translation' {
  /** Returns a string (or a lazy string that behaves like one before translations load). */
  export function _t(term: string, ...values: unknown[]): string;
}

declare module '@web/core/user' {
  export const user: { lang: string; userId: number; hasGroup(group: string): Promise<boolean> };
}

// Small building blocks shared by the pages: loading data, showing refusals, paging, forms,
// once-shown secrets. Plain HTML elements with labels, so keyboards and screen readers work
// without ARIA workarounds.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { refusalOf, type Refusal } from './errors.js';

export interface Loaded<T> {
  data: T | undefined;
  error: Refusal | undefined;
  loading: boolean;
  reload: () => void;
}

/** Loads with `load` whenever `deps` change; keeps the previous data while reloading (no layout jump). */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Refusal; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (e: unknown) => live && setState({ error: refusalOf(e), loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return { data: state.data, error: state.error, loading: state.loading, reload: useCallback(() => setTick((t) => t + 1), []) };
}

export function ErrorNote({ error }: { error: Refusal | undefined }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      <strong>Refused:</strong> {error.message} <code class="reason">{error.reason}</code>
    </p>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p class="muted" role="status" aria-live="polite">
      {what}…
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** A list's states in one place: loading the first time, refused, empty, or the rows. */
export function ListState<T>({
  loaded,
  items,
  empty,
  children,
}: {
  loaded: Loaded<unknown>;
  items: T[] | undefined;
  empty: string;
  children: (items: T[]) => ComponentChildren;
}) {
  if (loaded.error) return <ErrorNote error={loaded.error} />;
  if (!items) return <Loading />;
  if (items.length === 0) return <Empty>{empty}</Empty>;
  return <>{children(items)}</>;
}

export function Pager({
  offset,
  limit,
  total,
  onPage,
}: {
  offset: number;
  limit: number;
  total: number;
  onPage: (offset: number) => void;
}) {
  if (total <= limit && offset === 0) return <p class="muted pager">{total} in all</p>;
  const last = Math.min(offset + limit, total);
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled={offset === 0} onClick={() => onPage(Math.max(0, offset - limit))}>
        Previous
      </button>
      <span aria-live="polite">
        {total === 0 ? 0 : offset + 1}–{last} of {total}
      </span>
      <button type="button" disabled={last >= total} onClick={() => onPage(offset + limit)}>
        Next
      </button>
    </nav>
  );
}

/** One column of a {@link Table}: its header, and what each row shows in it. */
export interface Column<T> {
  header: ComponentChildren;
  cell: (item: T) => ComponentChildren;
  /** A class for the column's cells (say `mono` for ids and keys). */
  class?: string;
}

/** A last column of buttons acting on the row; its header is for screen readers only. */
export function actionsColumn<T>(cell: (item: T) => ComponentChildren, cls?: string): Column<T> {
  return { header: <span class="sr-only">Actions</span>, cell, class: cls };
}

/** The console's one list table: scrollable on narrow screens, column headers for screen readers. */
export function Table<T>({
  columns,
  items,
  rowKey,
  rowData,
  caption,
  class: cls,
}: {
  columns: Column<T>[];
  items: T[];
  rowKey: (item: T) => string;
  /** `data-*` attributes of a row, for finding it (tests, scripts). */
  rowData?: (item: T) => Record<`data-${string}`, string>;
  caption?: string;
  class?: string;
}) {
  return (
    <div class="table-wrap">
      <table class={cls}>
        {caption ? <caption class="sr-only">{caption}</caption> : null}
        <thead>
          <tr>
            {columns.map((c, i) => (
              <th scope="col" key={i}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {items.map((item) => (
            <tr key={rowKey(item)} {...rowData?.(item)}>
              {columns.map((c, i) => (
                <td class={c.class} key={i}>
                  {c.cell(item)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Whether a user, agent or app may be used: plain text when it may, a chip when it may not. */
export function Status({ active }: { active: boolean }) {
  return active ? <>active</> : <span class="chip off">inactive</span>;
}

export function Field({ label, hint, children }: { label: string; hint?: string; children: (id: string) => ComponentChildren }) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children(id)}
      {hint ? <small class="muted">{hint}</small> : null}
    </div>
  );
}

/** A text input bound to a string state. */
export function TextField({
  label,
  value,
  onInput,
  type = 'text',
  hint,
  required,
  autoComplete,
  placeholder,
}: {
  label: string;
  value: string;
  onInput: (v: string) => void;
  type?: 'text' | 'password' | 'email' | 'url' | 'search' | 'number' | 'datetime-local';
  hint?: string;
  required?: boolean;
  autoComplete?: string;
  placeholder?: string;
}) {
  return (
    <Field label={label} hint={hint}>
      {(id) => (
        <input
          id={id}
          type={type as 'text'}
          value={value}
          required={required}
          autocomplete={autoComplete ?? 'off'}
          placeholder={placeholder}
          onInput={(e) => onInput((e.target as HTMLInputElement).value)}
        />
      )}
    </Field>
  );
}

/**
 * A form's text fields as one state: `bind('name')` gives a {@link TextField} its value and
 * setter, `set` changes one field, `reset()` puts back the initial values.
 */
export function useFields<F extends Record<string, string>>(initial: F) {
  const [values, setValues] = useState(initial);
  const set = (name: keyof F, value: string) => setValues((s) => ({ ...s, [name]: value }));
  return {
    values,
    set,
    bind: (name: keyof F) => ({ value: values[name], onInput: (value: string) => set(name, value) }),
    reset: () => setValues(initial),
  };
}

export function CheckField({ label, checked, onChange }: { label: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <label class="check">
      <input type="checkbox" checked={checked} onChange={(e) => onChange((e.target as HTMLInputElement).checked)} /> {label}
    </label>
  );
}

/** Runs an action with a busy state; its refusal is shown next to it. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Refusal>();
  const run = useCallback(async <T,>(action: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      return await action();
    } catch (e) {
      setError(refusalOf(e));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: () => setError(undefined) };
}

/** A form whose submit runs `onSubmit` as an action; its refusal shows inside it. */
export function ActionForm({
  title,
  submit,
  onSubmit,
  children,
  class: cls,
}: {
  title?: string;
  submit: string;
  onSubmit: () => Promise<unknown>;
  children: ComponentChildren;
  class?: string;
}) {
  const action = useAction();
  return (
    <form
      class={`card form ${cls ?? ''}`}
      aria-label={title ?? submit}
      onSubmit={(e) => {
        e.preventDefault();
        void action.run(onSubmit);
      }}
    >
      {title ? <h3>{title}</h3> : null}
      {children}
      <ErrorNote error={action.error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={action.busy}>
          {action.busy ? 'Working…' : submit}
        </button>
      </div>
    </form>
  );
}

/** A button for one action on a row; asks first when `confirm` is given. */
export function ActionButton({
  label,
  run,
  confirm,
  danger,
  disabledReason,
}: {
  label: string;
  run: () => Promise<unknown>;
  confirm?: string;
  danger?: boolean;
  disabledReason?: string;
}) {
  const action = useAction();
  const [asking, setAsking] = useState(false);
  if (asking) {
    return (
      // biome-ignore lint/a11y/useSemanticElements: an inline confirmation inside a table row; a fieldset would break the row's layout
      <span class="confirm" role="group" aria-label={confirm}>
        <span>{confirm}</span>
        <button
          type="button"
          class={danger ? 'danger' : 'primary'}
          autoFocus
          onClick={() => {
            setAsking(false);
            void action.run(run);
          }}
        >
          Yes, {label.toLowerCase()}
        </button>
        <button type="button" onClick={() => setAsking(false)}>
          Cancel
        </button>
      </span>
    );
  }
  return (
    <span class="inline-action">
      <button
        type="button"
        class={danger ? 'danger' : ''}
        disabled={action.busy || Boolean(disabledReason)}
        title={disabledReason}
        onClick={() => (confirm ? setAsking(true) : void action.run(run))}
      >
        {action.busy ? 'Working…' : label}
      </button>
      <ErrorNote error={action.error} />
    </span>
  );
}

/** A secret the server shows once: readable, selectable and copyable, with a warning. */
export function SecretOnce({ label, value, onDone }: { label: string; value: string; onDone?: () => void }) {
  const [copied, setCopied] = useState(false);
  const ref = useRef<HTMLInputElement>(null);
  const id = useId();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      // No clipboard API (a plain-http origin): select it, so the person can copy it.
      ref.current?.select();
      document.execCommand('copy');
    }
    setCopied(true);
  };
  return (
    <section class="secret card" aria-label={label}>
      <label for={id}>{label}</label>
      <p class="muted">Shown once: copy it now. Only a hash is kept.</p>
      <div class="secret-row">
        <input id={id} ref={ref} class="mono" readOnly value={value} onFocus={(e) => (e.target as HTMLInputElement).select()} data-secret />
        <button type="button" class="primary" onClick={() => void copy()}>
          {copied ? 'Copied' : 'Copy'}
        </button>
        {onDone ? (
          <button type="button" onClick={onDone}>
            Done
          </button>
        ) : null}
      </div>
      <span class="sr-only" aria-live="polite">
        {copied ? 'Copied to the clipboard' : ''}
      </span>
    </section>
  );
}

export function Time({ ts }: { ts: Timestamp | undefined }) {
  if (!ts) return <span class="muted">—</span>;
  const d = timestampDate(ts);
  return (
    <time dateTime={d.toISOString()} title={d.toISOString()}>
      {d.toLocaleString()}
    </time>
  );
}

export function Chips({ items, empty = 'none' }: { items: readonly string[]; empty?: string }) {
  if (items.length === 0) return <span class="muted">{empty}</span>;
  return (
    <span class="chips">
      {items.map((i) => (
        <span class="chip" key={i}>
          {i}
        </span>
      ))}
    </span>
  );
}

/** A comma- or space-separated list as typed, trimmed. */
export const splitList = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <h1 tabIndex={-1} id="page-title">
        {title}
      </h1>
      {children ? <div class="page-tools">{children}</div> : null}
    </header>
  );
}

/** A note saying why an action is not offered: the permission it needs. */
export function NotOffered({ what, needs }: { what: string; needs: string }) {
  return (
    <p class="muted not-offered">
      {what} needs <code>{needs}</code>.
    </p>
  );
}

/** Shows a line of success for a while, announced to screen readers. */
export function useNotice(): [ComponentChildren, (text: string) => void] {
  const [text, setText] = useState('');
  useEffect(() => {
    if (!text) return;
    const t = setTimeout(() => setText(''), 6000);
    return () => clearTimeout(t);
  }, [text]);
  return [
    <p class="notice" role="status" aria-live="polite">
      {text}
    </p>,
    setText,
  ];
}

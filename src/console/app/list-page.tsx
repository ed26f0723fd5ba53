// What every list of the console shares: one page of rows at a time with its pager, and a
// "New …" button in the page header that opens the create form below it.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ListState, Pager, useLoad, type Loaded } from './ui.js';

/** A page of a list as the List* RPCs answer it. */
export interface PageOf<T> {
  items: T[];
  total: number;
}

/** A loaded page of a list, with where it starts and the way to another page. */
export interface PagedList<R> extends Loaded<R> {
  offset: number;
  limit: number;
  setOffset: (offset: number) => void;
}

/**
 * Loads one page of a list with `load` whenever `deps` or the page change. A new search or
 * filter starts again on the first page: call `setOffset(0)` with it.
 */
export function usePagedList<R>(load: (page: { offset: number; limit: number }) => Promise<R>, deps: unknown[], limit = 20): PagedList<R> {
  const [offset, setOffset] = useState(0);
  const loaded = useLoad(() => load({ offset, limit }), [...deps, offset]);
  return { ...loaded, offset, limit, setOffset };
}

/** A paged list's rows (or why there are none) and its pager. */
export function PagedRows<T>({
  list,
  empty,
  children,
}: {
  list: PagedList<PageOf<T>>;
  empty: string;
  children: (items: T[]) => ComponentChildren;
}) {
  return (
    <>
      <ListState loaded={list} items={list.data?.items} empty={empty}>
        {children}
      </ListState>
      {list.data ? <Pager offset={list.offset} limit={list.limit} total={list.data.total} onPage={list.setOffset} /> : null}
    </>
  );
}

/** Whether a page's create form is open; `created` closes it and passes on what was created. */
export function useCreateForm<T>(onCreated: (item: T) => void) {
  const [open, setOpen] = useState(false);
  return {
    open,
    toggle: () => setOpen(!open),
    created: (item: T) => {
      setOpen(false);
      onCreated(item);
    },
  };
}

/** The page header's button that opens (and closes) the create form. */
export function NewButton({ label, form }: { label: string; form: { open: boolean; toggle: () => void } }) {
  return (
    <button type="button" class="primary" aria-expanded={form.open} onClick={form.toggle}>
      {label}
    </button>
  );
}

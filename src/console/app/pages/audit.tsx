import { useState } from 'preact/hooks';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { useSession } from '../state.js';
import { PagedRows, usePagedList } from '../list-page.js';
import { Field, PageHeader, Table, TextField, Time, useFields } from '../ui.js';

const limit = 25;

/** `datetime-local` text (the browser's local time) as a Date; undefined when empty or unreadable. */
const localTime = (text: string) => {
  const d = text ? new Date(text) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
};

export function AuditPage() {
  const session = useSession();
  const fields = useFields({ actor: '', outcome: '', after: '', before: '' });
  const form = fields.values;
  const [filter, setFilter] = useState(form);
  const list = usePagedList(
    (page) => {
      const after = localTime(filter.after);
      const before = localTime(filter.before);
      return session.sso.auth.listAuditEvents({
        actorId: filter.actor.trim(),
        outcome: filter.outcome,
        ...page,
        ...(after ? { occurredAfter: timestampFromDate(after) } : {}),
        ...(before ? { occurredBefore: timestampFromDate(before) } : {}),
      });
    },
    [filter],
    limit,
  );
  const apply = (f: typeof form) => {
    list.setOffset(0);
    setFilter(f);
  };
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Audit events" />
      <form
        class="toolbar filters"
        aria-label="Filter events"
        onSubmit={(e) => {
          e.preventDefault();
          apply(form);
        }}
      >
        <TextField label="Principal (user or agent id)" {...fields.bind('actor')} />
        <Field label="Outcome">
          {(id) => (
            <select id={id} value={form.outcome} onChange={(e) => fields.set('outcome', (e.target as HTMLSelectElement).value)}>
              <option value="">any</option>
              <option value="success">success</option>
              <option value="failure">failure</option>
              <option value="locked">locked</option>
            </select>
          )}
        </Field>
        <TextField label="From" type="datetime-local" {...fields.bind('after')} />
        <TextField label="Until" type="datetime-local" {...fields.bind('before')} />
        <button type="submit">Apply</button>
      </form>
      <PagedRows list={list} empty="No events match.">
        {(items) => (
          <Table
            class="audit"
            items={items}
            rowKey={(e) => e.id}
            rowData={(e) => ({ 'data-type': e.type })}
            columns={[
              { header: 'When', cell: (e) => <Time ts={e.occurredAt} /> },
              { header: 'Event', cell: (e) => e.type },
              { header: 'Outcome', cell: (e) => <span class={`chip ${e.outcome}`}>{e.outcome}</span> },
              {
                header: 'Principal',
                class: 'nowrap',
                cell: (e) =>
                  e.actorId ? (
                    <button
                      type="button"
                      class="link mono"
                      title="Show only this principal"
                      onClick={() => {
                        fields.set('actor', e.actorId);
                        apply({ ...form, actor: e.actorId });
                      }}
                    >
                      {e.actorId.slice(0, 8)}
                    </button>
                  ) : (
                    <span class="muted">—</span>
                  ),
              },
              { header: 'Identifier', cell: (e) => e.identifier },
              { header: 'Reason', cell: (e) => (e.reason ? <code>{e.reason}</code> : null) },
              { header: 'From', cell: (e) => e.ip, class: 'mono nowrap' },
            ]}
          />
        )}
      </PagedRows>
    </section>
  );
}

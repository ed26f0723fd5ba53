import { useState } from 'preact/hooks';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { useSession } from '../state.js';
import { Field, ListState, PageHeader, Pager, TextField, Time, useLoad } from '../ui.js';

const limit = 25;

/** `datetime-local` text (the browser's local time) as a Date; undefined when empty or unreadable. */
const localTime = (text: string) => {
  const d = text ? new Date(text) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
};

export function AuditPage() {
  const session = useSession();
  const [form, setForm] = useState({ actor: '', outcome: '', after: '', before: '' });
  const [filter, setFilter] = useState(form);
  const [offset, setOffset] = useState(0);
  const list = useLoad(() => {
    const after = localTime(filter.after);
    const before = localTime(filter.before);
    return session.sso.auth.listAuditEvents({
      actorId: filter.actor.trim(),
      outcome: filter.outcome,
      offset,
      limit,
      ...(after ? { occurredAfter: timestampFromDate(after) } : {}),
      ...(before ? { occurredBefore: timestampFromDate(before) } : {}),
    });
  }, [filter, offset]);
  const set = (k: keyof typeof form) => (v: string) => setForm({ ...form, [k]: v });
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Audit events" />
      <form
        class="toolbar filters"
        aria-label="Filter events"
        onSubmit={(e) => {
          e.preventDefault();
          setOffset(0);
          setFilter(form);
        }}
      >
        <TextField label="Principal (user or agent id)" value={form.actor} onInput={set('actor')} />
        <Field label="Outcome">
          {(id) => (
            <select id={id} value={form.outcome} onChange={(e) => set('outcome')((e.target as HTMLSelectElement).value)}>
              <option value="">any</option>
              <option value="success">success</option>
              <option value="failure">failure</option>
              <option value="locked">locked</option>
            </select>
          )}
        </Field>
        <TextField label="From" type="datetime-local" value={form.after} onInput={set('after')} />
        <TextField label="Until" type="datetime-local" value={form.before} onInput={set('before')} />
        <button type="submit">Apply</button>
      </form>
      <ListState loaded={list} items={list.data?.items} empty="No events match.">
        {(items) => (
          <div class="table-wrap">
            <table class="audit">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Event</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Principal</th>
                  <th scope="col">Identifier</th>
                  <th scope="col">Reason</th>
                  <th scope="col">From</th>
                </tr>
              </thead>
              <tbody>
                {items.map((e) => (
                  <tr key={e.id} data-type={e.type}>
                    <td>
                      <Time ts={e.occurredAt} />
                    </td>
                    <td>{e.type}</td>
                    <td>
                      <span class={`chip ${e.outcome}`}>{e.outcome}</span>
                    </td>
                    <td class="nowrap">
                      {e.actorId ? (
                        <button
                          type="button"
                          class="link mono"
                          title="Show only this principal"
                          onClick={() => {
                            const f = { ...form, actor: e.actorId };
                            setForm(f);
                            setOffset(0);
                            setFilter(f);
                          }}
                        >
                          {e.actorId.slice(0, 8)}
                        </button>
                      ) : (
                        <span class="muted">—</span>
                      )}
                    </td>
                    <td>{e.identifier}</td>
                    <td>{e.reason ? <code>{e.reason}</code> : null}</td>
                    <td class="mono nowrap">{e.ip}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </ListState>
      {list.data ? <Pager offset={offset} limit={limit} total={list.data.total} onPage={setOffset} /> : null}
    </section>
  );
}

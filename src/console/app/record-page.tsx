// What the pages of one record (a user, a workspace, an agent, an app) share: the page before
// the record is there, and the card that deletes it.
import { ActionButton, ErrorNote, Loading, PageHeader } from './ui.js';
import type { Refusal } from './errors.js';

/** A record's page until the record has loaded: its title over the refusal, or over a loading line. */
export function RecordPending({ title, error }: { title: string; error: Refusal | undefined }) {
  return (
    <section>
      <PageHeader title={title} />
      {error ? <ErrorNote error={error} /> : <Loading />}
    </section>
  );
}

/** The danger zone at the foot of a record's page: deletes it (asked first), then goes back to the list. */
export function DeleteRecord({
  label,
  confirm,
  remove,
  back,
}: {
  label: string;
  confirm: string;
  remove: () => Promise<unknown>;
  back: string;
}) {
  return (
    <div class="card danger-zone">
      <h3>{label}</h3>
      <ActionButton
        label={label}
        danger
        confirm={confirm}
        run={async () => {
          await remove();
          location.hash = back;
        }}
      />
    </div>
  );
}

import type { DescMethod } from '@bufbuild/protobuf';
import { AgentService, ApiKeyService, AppRegistryService, AuthService, DirectoryService } from '../../../client/web.js';
import { FactorService } from '../../../../gen/sso/auth/v1/factor_service_pb.js';
import { may } from '../access.js';
import { useSession } from '../state.js';
import { Chips, PageHeader } from '../ui.js';

const services = [AuthService, DirectoryService, AgentService, ApiKeyService, AppRegistryService, FactorService];

/** Who is signed in, and what they may do here: the RPCs their scopes open, read from the protos. */
export function OverviewPage() {
  const session = useSession();
  const me = session.me!;
  const allowed: DescMethod[] = services.flatMap((s) => s.methods).filter((m) => may(me, m));
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Overview" />
      <dl class="facts card">
        <dt>Signed in as</dt>
        <dd>{me.identifiers.map((i) => i.identifier).join(', ')}</dd>
        <dt>User id</dt>
        <dd class="mono">{me.id}</dd>
        <dt>Administrator</dt>
        <dd>{me.isAdmin ? 'yes: every action is offered' : 'no'}</dd>
        <dt>Roles</dt>
        <dd>
          <Chips items={me.roles} />
        </dd>
        <dt>Scopes</dt>
        <dd>
          <Chips items={me.scopes} />
        </dd>
      </dl>
      <section class="card" aria-labelledby="allowed-title">
        <h2 id="allowed-title">What you may call</h2>
        <p class="muted">From each RPC’s access rule in the protos; the server checks every call again.</p>
        <ul class="columns">
          {allowed.map((m) => (
            <li key={`${m.parent.name}.${m.name}`}>
              <code>
                {m.parent.name}.{m.name}
              </code>
            </li>
          ))}
        </ul>
      </section>
    </section>
  );
}

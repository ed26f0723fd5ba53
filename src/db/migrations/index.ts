import { Initial1763900000000 } from './0001-initial.js';
import { Directory1763900000002 } from './0002-directory.js';
import { Machines1763900000003 } from './0003-machines.js';
import { Apps1763900000004 } from './0004-apps.js';
import { KeyLineage1763900000006 } from './0006-key-lineage.js';
import { Oidc1763900000007 } from './0007-oidc.js';
import { SecondFactors1763900000008 } from './0008-second-factors.js';
import { FirstPartyClients1763900000009 } from './0009-first-party-clients.js';
import { StandingNotifications1763900000010 } from './0010-standing-notifications.js';
import { LoginChecksInFlight1763900000011 } from './0011-login-checks-in-flight.js';
import { UserViewNotifications1763900000012 } from './0012-user-view-notifications.js';
import { UserCount1763900000013 } from './0013-user-count.js';

/** Every migration, oldest first. Append new ones; never edit or reorder shipped ones. */
export const migrations = [
  Initial1763900000000,
  Directory1763900000002,
  Machines1763900000003,
  Apps1763900000004,
  KeyLineage1763900000006,
  Oidc1763900000007,
  SecondFactors1763900000008,
  FirstPartyClients1763900000009,
  StandingNotifications1763900000010,
  LoginChecksInFlight1763900000011,
  UserViewNotifications1763900000012,
  UserCount1763900000013,
];

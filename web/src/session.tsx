// Who is signed in. The session itself is an HttpOnly cookie the client never sees; this keeps
// the signed-in user's profile and signs in and out.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { graphql } from './gql';
import type { MeQuery } from './gql/graphql';
import { ApiError, NetworkError, closeSubscriptions, request } from './api/client';
import { restoreLanguage } from './i18n';
import { CAN_KEEP, forgetOfflineKey, seal, unseal } from './offline/vault';
import { queued } from './offline/queue';
import i18n from './i18n';

const Me = graphql(`
  query Me {
    me {
      user {
        id
        email
        displayName
        role
        organisationId
      }
      organisation {
        id
        name
        country
      }
      tokenScopes
    }
  }
`);

const SignIn = graphql(`
  mutation SignIn($email: String!, $password: String!) {
    signIn(email: $email, password: $password) {
      expiresAt
      user {
        id
      }
    }
  }
`);

const SignOut = graphql(`
  mutation SignOut {
    signOut
  }
`);

export type Me = MeQuery['me'];
export type Role = Me['user']['role'];

type Session = {
  /** The signed-in user; null when nobody is; undefined while it is being found out. */
  me: Me | null | undefined;
  signIn(email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
};

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null | undefined>(undefined);

  const load = useCallback(async () => {
    try {
      const data = await request(Me);
      await restoreLanguage(data.me.user.id);
      // What was kept for offline work belongs to whoever kept it: another person signing in
      // on this browser starts with nothing. (A sign-in that merely expired keeps its queue.)
      if (CAN_KEEP) {
        const previous = await unseal<Me>('me').catch(() => undefined);
        if (previous && previous.user.id !== data.me.user.id) await forgetOfflineKey();
        // Kept (sealed) so that work can go on without a connection.
        await seal('me', data.me).catch(() => {});
      }
      setMe(data.me);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') {
        setMe(null);
      } else if (error instanceof NetworkError) {
        // Offline: the signed-in person as last seen, if they kept anything for offline work.
        setMe((CAN_KEEP ? await unseal<Me>('me').catch(() => undefined) : undefined) ?? null);
      } else throw error;
    }
  }, []);

  useEffect(() => {
    load().catch(() => setMe(null));
  }, [load]);

  const signIn = useCallback(
    async (email: string, password: string) => {
      await request(SignIn, { email, password });
      await load();
    },
    [load],
  );

  const signOut = useCallback(async () => {
    const waiting = CAN_KEEP ? (await queued().catch(() => [])).length : 0;
    if (waiting && !window.confirm(i18n.t('offline.signOutConfirm', { count: waiting }))) return;
    try {
      await request(SignOut);
    } finally {
      closeSubscriptions();
      // The key of what was kept for offline work leaves with the sign-in.
      if (CAN_KEEP) await forgetOfflineKey().catch(() => {});
      setMe(null);
    }
  }, []);

  return <SessionContext.Provider value={{ me, signIn, signOut }}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** The signed-in user (for pages only reachable signed in). */
export function useMe(): Me {
  const { me } = useSession();
  if (!me) throw new Error('not signed in');
  return me;
}

/** What a role may do in the client (the server checks the same again on every request). */
export function can(me: Me, action: 'record' | 'supervise' | 'evaluate' | 'administer' | 'personalData'): boolean {
  const role = me.user.role;
  switch (action) {
    case 'record':
      return role === 'CASEWORKER' || role === 'SUPERVISOR';
    case 'supervise':
      return role === 'SUPERVISOR';
    case 'evaluate':
      return role === 'EVALUATOR' || role === 'SUPERVISOR';
    case 'administer':
      return role === 'ADMINISTRATOR';
    case 'personalData':
      return role === 'CASEWORKER' || role === 'SUPERVISOR';
  }
}

/** /api/v1/organisations: the member organisations and their realms. Anyone lists; administrators change. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Db } from '../../db/prisma.js';
import { createOrganisation, listOrganisations, updateOrganisation } from '../../services/organisations.js';
import { callerOf } from '../caller.js';
import { POLICY } from '../policy.js';
import { BEARER_OPTIONAL, BEARER_REQUIRED, BODY_ERRORS, errorResponses } from '../schemas/common.js';
import {
  CreateOrganisationBody,
  Organisation,
  OrganisationList,
  OrganisationParams,
  UpdateOrganisationBody,
} from '../schemas/organisations.js';

export interface OrganisationRoutesOptions {
  db: Db;
}

export const organisationRoutes: FastifyPluginAsyncTypebox<OrganisationRoutesOptions> = async (app, { db }) => {
  app.get(
    '/organisations',
    {
      config: { policy: POLICY.public },
      schema: {
        tags: ['organisations'],
        operationId: 'listOrganisations',
        summary: 'List member organisations',
        description: 'Users whose Feide realm is listed here are members: they read internal channels.',
        security: BEARER_OPTIONAL,
        response: { 200: OrganisationList, ...errorResponses() },
      },
    },
    async () => ({ items: await listOrganisations({ db }) }),
  );

  app.post(
    '/organisations',
    {
      config: { policy: POLICY.admin },
      schema: {
        tags: ['organisations'],
        operationId: 'createOrganisation',
        summary: 'Add a member organisation',
        description: 'Administrators only. Code and realm are unique (codes case-insensitively).',
        security: BEARER_REQUIRED,
        body: CreateOrganisationBody,
        response: { 201: Organisation, ...errorResponses(...BODY_ERRORS, 403, 409) },
      },
    },
    async (request, reply) => {
      const organisation = await createOrganisation({ db }, callerOf(request), request.body);
      return reply
        .code(201)
        .header('location', `/api/v1/organisations/${encodeURIComponent(organisation.code)}`)
        .send(organisation);
    },
  );

  app.patch(
    '/organisations/:code',
    {
      config: { policy: POLICY.admin },
      schema: {
        tags: ['organisations'],
        operationId: 'updateOrganisation',
        summary: "Change an organisation's name or realm",
        description: 'Administrators only. The code is permanent. A new realm applies from the next sign-in.',
        security: BEARER_REQUIRED,
        params: OrganisationParams,
        body: UpdateOrganisationBody,
        response: { 200: Organisation, ...errorResponses(...BODY_ERRORS, 403, 404, 409) },
      },
    },
    async (request) => updateOrganisation({ db }, callerOf(request), request.params.code, request.body),
  );
};

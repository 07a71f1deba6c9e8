import type { Config } from '../../config.js';
import type { CrmAdapter } from './crm-adapter.js';
import { FileCrm } from './file.js';
import { HubSpotCrm } from './hubspot.js';
import { WebhookCrm } from './webhook.js';

/** The CRM adapter the config names; its settings were checked by loadConfig. */
export function crmAdapterFor(config: Config): CrmAdapter {
  switch (config.VOICEFLEET_CRM) {
    case 'file':
      return new FileCrm(config.VOICEFLEET_CRM_FILE);
    case 'webhook':
      return new WebhookCrm({ url: config.VOICEFLEET_CRM_WEBHOOK_URL!, secret: config.VOICEFLEET_CRM_WEBHOOK_SECRET!, timeoutMs: config.VOICEFLEET_CRM_TIMEOUT_MS });
    case 'hubspot':
      return new HubSpotCrm({ accessToken: config.HUBSPOT_ACCESS_TOKEN!, baseUrl: config.HUBSPOT_BASE_URL, timeoutMs: config.VOICEFLEET_CRM_TIMEOUT_MS });
  }
}

import { z } from 'zod';

/**
 * What the receptionist may say about the business. Answers come only from here, never from a
 * model's imagination; a deployment overrides it per dialed number.
 */
export const businessProfileSchema = z.object({
  name: z.string().min(1).max(80),
  hours: z.string().min(1),
  address: z.string().min(1),
  prices: z.string().min(1),
  /** Bookable hours per weekday (0 = Sunday): [first hour, hour after the last slot). */
  openingHours: z.record(z.coerce.number().int().min(0).max(6), z.tuple([z.number().int().min(0).max(23), z.number().int().min(1).max(24)])),
});

export type BusinessProfile = z.infer<typeof businessProfileSchema>;

export const DEFAULT_BUSINESS_PROFILE: BusinessProfile = {
  name: 'Acme Dental',
  hours: 'We are open Monday to Friday from 8 AM to 6 PM, and Saturday from 9 AM to 1 PM.',
  address: 'We are at 100 Main Street, next to the public library.',
  prices: 'A standard check up and cleaning costs 95 dollars. We accept most insurance plans.',
  openingHours: { 1: [8, 18], 2: [8, 18], 3: [8, 18], 4: [8, 18], 5: [8, 18], 6: [9, 13] },
};

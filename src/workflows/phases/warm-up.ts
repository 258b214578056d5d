/** Phase 5: the preview must answer 200 on its warmup path in time; then it answers on the preview address. */
import { run } from '../activity-presets.js';
import { siteStep, type DeploymentContext } from './context.js';
import { warm } from './slots.js';

export async function warmUp(ctx: DeploymentContext): Promise<void> {
  const { request, plan, record } = ctx;
  record.enter('warmup');
  for (const site of plan.sites) {
    const preview = record.site(site.name).preview!;
    record.log(`Warming up ${request.package.version} on site ${site.name}`);
    await warm(ctx, site, preview, site.warmupPath ?? request.package.warmupPath);
    await run(ctx.activities.control.routePreview, `Preview ${site.name}`, { ...siteStep(ctx, site.name), route: preview });
    record.updateSite(site.name, { state: 'preview' });
    record.log(`Site ${site.name}: ${request.package.version} is ready on its preview address ${site.previewUrl}`);
  }
}

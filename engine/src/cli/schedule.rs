//! `switchyard schedule next WORKFLOW [-n 5]`: when a cron workflow fires next, in its time
//! zone.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum ScheduleCommand {
    /// Print the next firing times of a cron workflow.
    Next(NextArgs),
}

#[derive(Debug, clap::Args)]
pub struct NextArgs {
    /// The workflow id.
    pub workflow: String,
    /// How many firings.
    #[arg(short = 'n', default_value_t = 5)]
    pub count: usize,
    /// Spec files or folders. Default: `connectors/` and `workflows/`.
    #[arg(long = "specs")]
    pub paths: Vec<PathBuf>,
}

pub fn run(command: ScheduleCommand) -> ExitCode {
    let ScheduleCommand::Next(args) = command;
    let paths = super::spec_paths(args.paths);
    let (compiled, _) = match super::compile_specs(&paths) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(catalog) = compiled.catalog else {
        return super::usage_error("the specs have errors: run `switchyard validate`");
    };
    let Some(workflow) = catalog.workflows.get(&args.workflow) else {
        let hint = crate::diag::did_you_mean_suffix(
            &args.workflow,
            catalog.workflows.keys().map(String::as_str),
        );
        return super::usage_error(format!("no workflow `{}`{hint}", args.workflow));
    };
    let crate::plan::WorkflowTriggerPlan::Cron(plan) = &workflow.trigger else {
        return super::usage_error(format!("workflow `{}` has no cron trigger", args.workflow));
    };
    for at in crate::schedule::next_firings(plan, chrono::Utc::now(), args.count) {
        println!(
            "{}",
            at.with_timezone(&plan.timezone)
                .format("%Y-%m-%d %H:%M:%S %Z (%:z)")
        );
    }
    ExitCode::SUCCESS
}

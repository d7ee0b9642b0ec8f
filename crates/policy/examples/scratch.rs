fn main() -> anyhow_free::R { anyhow_free::run() }
mod anyhow_free {
    pub type R = Result<(), Box<dyn std::error::Error>>;
    pub fn run() -> R {
        let mut e = regorus::Engine::new();
        e.add_policy("default.rego".into(), std::fs::read_to_string("policies/default.rego")?).map_err(|e| e.to_string())?;
        e.add_data_json(&std::fs::read_to_string("policies/default-data.json")?).map_err(|e| e.to_string())?;
        let input = std::env::args().nth(1).unwrap_or_default();
        e.set_input_json(&input).map_err(|e| e.to_string())?;
        let v = e.eval_rule("data.tripline.escalation.decision".into()).map_err(|e| e.to_string())?;
        println!("{}", v.to_json_str().map_err(|e| e.to_string())?);
        Ok(())
    }
}

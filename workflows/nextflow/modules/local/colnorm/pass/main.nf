// One statistics pass of colnorm over one shard of the samples.
process COLNORM_PASS {
    tag "${meta.id}:pass${pass}:shard${shard}"
    label 'process_single'

    input:
    tuple val(meta), path(counts), val(shard), val(pass), path(model)

    output:
    tuple val(meta), path("pass${pass}-${shard}.state"), emit: state
    path "versions.yml"                                 , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args      = task.ext.args ?: ''            // e.g. --allow-fractional, edgeR options
    def model_arg = model ? "--model ${model}" : ''
    """
    colnorm normalize \\
        --method ${meta.method} \\
        ${model_arg} \\
        --shard ${shard}/${meta.shards} \\
        --state-out pass${pass}-${shard}.state \\
        --threads ${task.cpus} \\
        --quiet \\
        ${args} \\
        ${counts}

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        colnorm: \$(colnorm --version 2>/dev/null || echo dev)
    END_VERSIONS
    """

    stub:
    """
    touch pass${pass}-${shard}.state versions.yml
    """
}

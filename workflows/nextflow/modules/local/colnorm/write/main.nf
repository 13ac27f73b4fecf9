// One shard's part of the normalized matrix, with the final model.
process COLNORM_WRITE {
    tag "${meta.id}:shard${shard}"
    label 'process_single'

    input:
    tuple val(meta), path(counts), val(shard), path(model)

    output:
    tuple val(meta), path("part-*.parquet"), emit: part
    path "versions.yml"                    , emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''                 // e.g. --log
    """
    colnorm normalize \\
        --model ${model} \\
        --shard ${shard}/${meta.shards} \\
        --threads ${task.cpus} \\
        --quiet \\
        ${args} \\
        ${counts} \\
        -o .

    cat <<-END_VERSIONS > versions.yml
    "${task.process}":
        colnorm: \$(colnorm --version 2>/dev/null || echo dev)
    END_VERSIONS
    """

    stub:
    """
    touch part-${shard}.parquet versions.yml
    """
}
